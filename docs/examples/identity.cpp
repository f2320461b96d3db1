// docs/identity.md: when two layers are one layer, and when they are two.
#include <xfuse/xfuse.hpp>
#include <xtensor/xrandom.hpp>
#include <xtensor/xview.hpp>

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "check.hpp"

namespace xf = xfuse;

template <class Model>
std::string summary_of(const Model& model) {
    std::ostringstream text;
    model.summary(text);
    return text.str();
}

bool same_values(const xt::xarray<float>& a, const xt::xarray<float>& b) {
    return a.shape() == b.shape() && xt::all(xt::equal(a, b));
}

// [helper]
// Looks as if it made a new layer on every call. It makes one per instantiation: calls with
// the same argument types share it.
template <class X>
auto dense_block(X x) {
    return xf::tagged::Dense<struct block_dense, 4, xf::relu>{}(x);
}
// [helper]

// [helper fix]
// The caller writes the layers, so every call has layers of its own.
template <class First, class Second, class X>
auto two_layer_block(First first, Second second, X x) {
    return second(first(x));
}
// [helper fix]

int main() {
    // [distinct types]
    auto a = xf::Dense<32>{};
    auto b = xf::Dense<32>{};
    static_assert(!std::is_same_v<decltype(a), decltype(b)>);
    // [distinct types]

    // [two objects]
    auto input = xf::Input<3>{};
    auto first = xf::Dense<3>{};
    auto second = xf::Dense<3>{};
    auto stacked = xf::Model{xf::inputs(input), second(first(input))};
    // Two layers of 12 weights each: input_1, dense, dense_1.
    // [two objects]
    CHECK(stacked.count_params() == 2 * (3 * 3 + 3));
    CHECK(!same_values(stacked.get_weights()[0], stacked.get_weights()[2]));
    CHECK((stacked.layer_names() == std::vector<std::string>{"input_1", "dense", "dense_1"}));

    // [one object twice]
    auto left = xf::Input<3>{};
    auto right = xf::Input<3>{};
    auto shared = xf::Dense<2>{};
    auto siamese =
        xf::Model{xf::inputs(left, right), xf::Concatenate{}(shared(left), shared(right))};
    // One Dense of 8 weights, applied to both inputs.
    // [one object twice]
    CHECK(siamese.count_params() == 3 * 2 + 2);
    CHECK((siamese.layer_names() ==
           std::vector<std::string>{"input_1", "input_2", "dense", "concatenate"}));
    CHECK(summary_of(siamese).find("'dense[1][0]'") != std::string::npos);
    {
        // The same samples on both sides: the same weights give two equal halves.
        xt::xtensor<float, 2> samples = xt::random::randn<float>({4, 3});
        xt::xtensor<float, 2> out = siamese.predict(samples, samples);
        CHECK(same_values(xt::view(out, xt::all(), xt::range(0, 2)),
                          xt::view(out, xt::all(), xt::range(2, 4))));
    }

#if defined(XFUSE_DOCS_SHARED_SHAPE_ERROR)  // does not compile, on purpose
    // [shared shape error]
    auto narrow = xf::Input<3>{};
    auto wide = xf::Input<5>{};
    auto dense = xf::Dense<2>{};
    auto broken = xf::Model{xf::inputs(narrow, wide), dense(narrow), dense(wide)};
    // [shared shape error]
#endif

    {
        // Layers without weights take inputs of any shapes; the summary says "multiple".
        auto narrow = xf::Input<3>{};
        auto wide = xf::Input<5>{};
        auto act = xf::Activation<xf::tanh>{};
        auto m = xf::Model{xf::inputs(narrow, wide), act(narrow), act(wide)};
        CHECK(summary_of(m).find(" activation (Activation)        multiple ") != std::string::npos);
    }

    // [one tensor twice]
    auto h = xf::Dense<4>{}(input);
    auto doubled = xf::Add{}(h, h);  // h is one node: computed once, read twice
    auto reuse = xf::Model{xf::inputs(input), doubled};
    // [one tensor twice]
    static_assert(decltype(reuse)::graph_type::node_count == 3);  // input_1, dense, add
    CHECK((reuse.layer_names() == std::vector<std::string>{"input_1", "dense", "add"}));

    // [same call twice]
    auto d = xf::Dense<4>{};
    static_assert(std::is_same_v<decltype(d(input)), decltype(d(input))>);
    // [same call twice]

    // [sequential]
    using Hidden = xf::Dense<4, xf::relu>;
    xf::Sequential<xf::Input<4>, Hidden, Hidden> sequential;
    // Two layers, dense and dense_1, each with its own 20 weights.
    // [sequential]
    CHECK(sequential.count_params() == 2 * (4 * 4 + 4));
    CHECK((sequential.layer_names() == std::vector<std::string>{"dense", "dense_1"}));
    CHECK(sequential.get_layer<"dense">().count_params() == 4 * 4 + 4);
    CHECK(sequential.get_layer<"dense_1">().count_params() == 4 * 4 + 4);
    {
        const auto weights = sequential.get_weights();
        CHECK(weights.size() == 4 && !same_values(weights[0], weights[2]));
    }

    // [copy]
    auto original = xf::Dense<3>{};
    auto copy = original;  // the same layer: same type, same weights
    auto copied = xf::Model{xf::inputs(input), copy(original(input))};
    // [copy]
    static_assert(std::is_same_v<decltype(copy), decltype(original)>);
    CHECK(copied.count_params() == 3 * 3 + 3);
    CHECK((copied.layer_names() == std::vector<std::string>{"input_1", "dense"}));

    // [helper use]
    auto branches =
        xf::Model{xf::inputs(input), xf::Concatenate{}(dense_block(input), dense_block(input))};
    // One dense layer and one node: both halves of the output are the same 4 numbers.
    // [helper use]
    CHECK(branches.count_params() == 3 * 4 + 4);
    {
        // Another argument type, another instantiation, another layer.
        auto other = xf::Input<3>{};
        static_assert(!std::is_same_v<decltype(dense_block(input))::layer_type,
                                      decltype(dense_block(other))::layer_type>);
    }
    {
        xt::xtensor<float, 2> samples = xt::random::randn<float>({4, 3});
        xt::xtensor<float, 2> out = branches.predict(samples);
        CHECK(same_values(xt::view(out, xt::all(), xt::range(0, 4)),
                          xt::view(out, xt::all(), xt::range(4, 8))));
    }
    CHECK((branches.layer_names() == std::vector<std::string>{"input_1", "dense", "concatenate"}));

    // [helper fix use]
    auto y1 = two_layer_block(xf::Dense<8, xf::relu>{}, xf::Dense<4>{}, input);
    auto y2 = two_layer_block(xf::Dense<8, xf::relu>{}, xf::Dense<4>{}, input);
    auto fixed = xf::Model{xf::inputs(input), xf::Concatenate{}(y1, y2)};
    // Four Dense layers, named in model order: the blocks' first layers are dense and
    // dense_1, their second layers dense_2 and dense_3.
    // [helper fix use]
    CHECK(fixed.count_params() == 2 * ((3 * 8 + 8) + (8 * 4 + 4)));
    CHECK(fixed.get_layer<"dense_1">().count_params() == 3 * 8 + 8);
    CHECK(fixed.get_layer<"dense_2">().count_params() == 8 * 4 + 4);
    CHECK((fixed.layer_names() == std::vector<std::string>{"input_1", "dense", "dense_1", "dense_2",
                                                           "dense_3", "concatenate"}));

    // [names]
    auto head = xf::Dense<1>{};  // created first: Keras would name it "dense"
    auto body = xf::Dense<4>{};  // created second: Keras would name it "dense_1"
    auto named = xf::Model{xf::inputs(input), head(body(input))};
    // xfuse names in model order: body is "dense", head is "dense_1".
    // [names]
    CHECK((named.layer_names() == std::vector<std::string>{"input_1", "dense", "dense_1"}));
    CHECK(named.get_layer<"dense">().count_params() == 3 * 4 + 4);
    CHECK(named.get_layer<"dense_1">().count_params() == 4 * 1 + 1);

    // [move only]
    using Stacked = decltype(stacked);
    static_assert(!std::is_copy_constructible_v<Stacked> &&
                  std::is_nothrow_move_constructible_v<Stacked>);
    auto moved = std::move(stacked);  // the weights move with it
    // [move only]
    CHECK(moved.name() == "model");

    // [sub-model]
    auto x1 = xf::Dense<2>{}(input);
    auto x2 = xf::Dense<2>{}(input);
    auto both = xf::Model{xf::inputs(input), xf::Concatenate{}(x1, x2)};  // dense, dense_1
    auto part = xf::Model{both.inputs(), x2};       // dense_1, with both's weights
    auto fresh = xf::Model{xf::inputs(input), x2};  // dense, with weights of its own
    // [sub-model]
    CHECK((both.layer_names() ==
           std::vector<std::string>{"input_1", "dense", "dense_1", "concatenate"}));
    CHECK((part.layer_names() == std::vector<std::string>{"input_1", "dense_1"}));
    CHECK((fresh.layer_names() == std::vector<std::string>{"input_1", "dense"}));
    {
        auto layer = both.get_layer<"dense_1">();
        CHECK(same_values(part.get_weights()[0], layer.get_weights()[0]));
        CHECK(!same_values(fresh.get_weights()[0], layer.get_weights()[0]));
        // A change through one model shows in the other, and not in the fresh one.
        const xt::xarray<float> before = fresh.get_weights()[0];
        layer.set_weights({xt::ones<float>({3, 2}), xt::zeros<float>({2})});
        CHECK(same_values(part.get_weights()[0], xt::ones<float>({3, 2})));
        CHECK(same_values(fresh.get_weights()[0], before));
        // A layer the sub-model adds is numbered after both's layers.
        auto extended = xf::Model{both.inputs(), xf::Dense<1>{}(x2)};
        CHECK(
            (extended.layer_names() == std::vector<std::string>{"input_1", "dense_1", "dense_2"}));
        CHECK(same_values(extended.get_weights()[0], xt::ones<float>({3, 2})));
    }

    return docs::exit_code();
}
