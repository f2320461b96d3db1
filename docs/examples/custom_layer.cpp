// Placeholder while docs/custom_layer is written.
int main() {}
