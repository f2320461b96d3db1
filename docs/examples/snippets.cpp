// Keeps the pages and their programs in sync: every ```cpp block of a page must appear, line by
// line, in the program the page belongs to (indented or not, but uniformly). Blocks in other
// languages (text, sh, cmake, python) are not programs and are not checked.
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

std::vector<std::string> read_lines(const std::filesystem::path& path) {
    std::ifstream file(path);
    if (!file)
        throw std::runtime_error("cannot read " + path.string());
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);)
        lines.push_back(line);
    return lines;
}

struct block {
    std::size_t line;  // 1-based line of the opening fence
    std::vector<std::string> text;
};

std::vector<block> cpp_blocks(const std::vector<std::string>& page) {
    std::vector<block> blocks;
    for (std::size_t i = 0; i < page.size(); ++i) {
        if (page[i] != "```cpp")
            continue;
        block b{i + 1, {}};
        for (++i; i < page.size() && page[i] != "```"; ++i)
            b.text.push_back(page[i]);
        blocks.push_back(std::move(b));
    }
    return blocks;
}

// True when `text` appears in `program` from line `start` on, every non-empty line behind the
// same run of spaces.
bool appears_at(const std::vector<std::string>& program, std::size_t start,
                const std::vector<std::string>& text) {
    if (start + text.size() > program.size())
        return false;
    const std::string& first = program[start];
    if (first.size() < text[0].size())
        return false;
    const std::string indent = first.substr(0, first.size() - text[0].size());
    if (indent.find_first_not_of(' ') != std::string::npos)
        return false;
    for (std::size_t k = 0; k < text.size(); ++k) {
        const std::string& line = program[start + k];
        if (text[k].empty() ? !line.empty() : line != indent + text[k])
            return false;
    }
    return true;
}

bool appears(const std::vector<std::string>& program, const std::vector<std::string>& text) {
    if (text.empty())
        return true;
    for (std::size_t start = 0; start < program.size(); ++start)
        if (appears_at(program, start, text))
            return true;
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: doc_snippets <docs directory>\n";
        return EXIT_FAILURE;
    }
    const std::filesystem::path docs = argv[1];
    const std::vector<std::pair<std::string, std::string>> pages{
        {"getting_started.md", "examples/getting_started.cpp"},
        {"seed_walkthrough.md", "examples/seed_walkthrough.cpp"},
        {"identity.md", "examples/identity.cpp"},
        {"custom_layers.md", "examples/custom_layer.cpp"},
        {"performance.md", "examples/performance.cpp"},
        {"keras_interop.md", "examples/keras_interop.cpp"},
        {"training.md", "examples/training.cpp"},
        {"sequences.md", "examples/sequences.cpp"},
        {"attention_pooling.md", "examples/attention_pooling.cpp"},
    };
    int failures = 0;
    for (const auto& [page_name, program_name] : pages) {
        std::vector<std::string> page, program;
        try {
            page = read_lines(docs / page_name);
            program = read_lines(docs / program_name);
        } catch (const std::runtime_error& error) {
            std::cerr << error.what() << "\n";
            ++failures;
            continue;
        }
        const auto blocks = cpp_blocks(page);
        if (blocks.empty()) {
            std::cerr << page_name << ": no ```cpp block\n";
            ++failures;
        }
        for (const block& b : blocks)
            if (!appears(program, b.text)) {
                std::cerr << page_name << ":" << b.line << ": this block is not in " << program_name
                          << "\n";
                ++failures;
            }
    }
    return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
