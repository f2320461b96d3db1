// The seed notebook in xfuse: an attention block over two inputs, its summary, and a second
// model from the same inputs to the attention weights, whose rows sum to 1.
// The acceptance program of issue 2, kept exactly as the issue gives it:
// clang-format off
#include <xfuse/xfuse.hpp>
#include <xtensor/xrandom.hpp>
#include <xtensor/xview.hpp>
#include <iostream>

namespace xf = xfuse;

int main() {
    auto input1 = xf::Input<10>{};
    auto input2 = xf::Input<20>{};
    auto x1 = xf::Dense<32, xf::relu>{}(input1);
    auto x2 = xf::Dense<64, xf::relu>{}(input2);
    auto x = xf::Concatenate{}(x1, x2);                        // static shape (96)
    auto alpha = xf::Dense<96, xf::softmax, "attention">{}(x);  // the attention weights
    auto s = xf::Dot<1>{}(x, alpha);                           // (1): the weighted sum
    auto output = xf::Dense<1, xf::sigmoid>{}(s);

    auto model = xf::Model{xf::inputs(input1, input2), output};
    model.compile(xf::Adam{}, xf::BinaryCrossentropy{});
    model.summary();  // the TF 2.7-2.12 table below, byte for byte

    // A second model from the same inputs to the attention layer's output. It shares the
    // first model's weights, as in Keras: training `model` changes what `attention` returns.
    auto attention = xf::Model{model.inputs(), model.get_layer<"attention">().output()};
    xt::xtensor<float, 2> a = xt::random::randn<float>({10000, 10});
    xt::xtensor<float, 2> b = xt::random::randn<float>({10000, 20});
    xt::xtensor<float, 2> o = attention.predict(a, b);
    std::cout << "(" << o.shape(0) << ", " << o.shape(1) << ")\n";      // (10000, 96)
    std::cout << xt::sum(xt::row(o, 1234))() << "\n";                     // 1 (within 1e-6)
}
