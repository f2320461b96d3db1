// expect: xfuse: a layer object applied twice must see inputs that give it the same weight shapes
// A layer with one weight per input value, applied to (2, 3) and (3, 2) samples: the same count
// of weights in different shapes (and different padded storage), which must not compile.
#include <xfuse/xfuse.hpp>
namespace xf = xfuse;

template <class Tag = decltype([] {})>
struct Scale : xf::layer<Scale<Tag>> {
    static constexpr std::string_view class_name = "Scale", name = "";
    template <xf::Shape... In>
    using output_shape = std::tuple_element_t<0, std::tuple<In...>>;
    template <xf::Shape In>
    static constexpr std::array<xf::weight_spec, 1> weights_of() {
        return {xf::weight_spec{"scale", {In::dims[0], In::dims[1]}, 2, xf::initializer::ones}};
    }
    template <xf::Shape... In>
    static constexpr auto weights = weights_of<In...>();
    template <xf::Shape In>
    static void forward(const float* p, std::size_t n, std::array<const float*, 1> in,
                        float* out) noexcept {
        for (std::size_t i = 0; i < n * In::storage; ++i)
            out[i] = in[0][i] * p[i % In::storage];
    }
};

void build() {
    auto a = xf::Input<2, 3>{};
#ifdef XFUSE_SHOULD_FAIL
    auto b = xf::Input<3, 2>{};
#else
    auto b = xf::Input<2, 3>{};
#endif
    auto scale = Scale{};
    [[maybe_unused]] auto model = xf::Model{xf::inputs(a, b), scale(a), scale(b)};
}
