// ModelCheckpoint's file names against what Python's str.format prints for the same pattern and
// values: each expected string is Python 3's output (format(x, spec), and repr(float) for fields
// without a spec), checked with python3 when the test was written.
#define BOOST_TEST_MODULE train_checkpoint_filepath
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <xfuse/train/checkpoint_filepath.hpp>

namespace xf = xfuse;
using value = xf::checkpoint_filepath::value;

namespace {

std::string format(const std::string& pattern, const std::map<std::string, value>& values) {
    return xf::checkpoint_filepath(pattern).format([&](std::string_view name) {
        const auto found = values.find(std::string(name));
        return found == values.end() ? std::nullopt : std::optional<value>(found->second);
    });
}

std::string repr(double x) {
    return format("{x}", {{"x", x}});
}

template <class F>
void check_message(F&& f, const std::string& fragment) {
    try {
        f();
        BOOST_ERROR("expected std::invalid_argument containing: " << fragment);
    } catch (const std::invalid_argument& error) {
        BOOST_TEST(std::string(error.what()).find(fragment) != std::string::npos,
                   error.what() << " lacks " << fragment);
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(keras_documented_patterns) {
    BOOST_TEST(format("ckpt-{epoch:02d}.h5", {{"epoch", 3LL}}) == "ckpt-03.h5");
    BOOST_TEST(format("ckpt-{epoch:02d}.h5", {{"epoch", 123LL}}) == "ckpt-123.h5");
    BOOST_TEST(format("w.{epoch:02d}-{val_loss:.2f}.h5", {{"epoch", 7LL}, {"val_loss", 0.6789}}) ==
               "w.07-0.68.h5");
    BOOST_TEST(format("best-{val_loss:.4f}.h5", {{"val_loss", 0.69314718}}) == "best-0.6931.h5");
    BOOST_TEST(format("{epoch}-{loss:.2e}", {{"epoch", 3LL}, {"loss", 0.000123456}}) ==
               "3-1.23e-04");
    BOOST_TEST(format("{{epoch}}/{epoch}", {{"epoch", 2LL}}) == "{epoch}/2");
}

BOOST_AUTO_TEST_CASE(specs_as_python_formats_them) {
    BOOST_TEST(format("{e:5d}", {{"e", 3LL}}) == "    3");
    BOOST_TEST(format("{e:03}", {{"e", 4LL}}) == "004");
    BOOST_TEST(format("{e:.2f}", {{"e", 3LL}}) == "3.00");  // an int takes float specs
    BOOST_TEST(format("{x:08.3f}", {{"x", -1.5}}) == "-001.500");
    BOOST_TEST(format("{x:.3E}", {{"x", 12345.678}}) == "1.235E+04");
    BOOST_TEST(format("{x:g}", {{"x", 0.0001}}) == "0.0001");
    BOOST_TEST(format("{x:.3g}", {{"x", 1234567.0}}) == "1.23e+06");
    BOOST_TEST(format("{x:%}", {{"x", 0.25}}) == "25.000000%");
    BOOST_TEST(format("{x:.1%}", {{"x", 0.8125}}) == "81.2%");  // round half to even, as C
    BOOST_TEST(format("{x:.2f}", {{"x", std::numeric_limits<double>::infinity()}}) == "inf");
    BOOST_TEST(format("{x:7}", {{"x", 0.5}}) == "    0.5");
}

BOOST_AUTO_TEST_CASE(fields_without_spec_print_python_repr) {
    BOOST_TEST(repr(0.1) == "0.1");
    BOOST_TEST(repr(0.30000000000000004) == "0.30000000000000004");
    BOOST_TEST(repr(100.0) == "100.0");
    BOOST_TEST(repr(0.0) == "0.0");
    BOOST_TEST(repr(-0.5) == "-0.5");
    BOOST_TEST(repr(0.0001) == "0.0001");  // exponent -4: still fixed
    BOOST_TEST(repr(1e-05) == "1e-05");
    BOOST_TEST(repr(1.5e-07) == "1.5e-07");
    BOOST_TEST(repr(2.5e15) == "2500000000000000.0");
    BOOST_TEST(repr(1e16) == "1e+16");
    BOOST_TEST(repr(123456789012345.6) == "123456789012345.6");
    BOOST_TEST(repr(double(0.6931472f)) == "0.6931471824645996");  // a float32 loss, widened
    BOOST_TEST(repr(std::nan("")) == "nan");
    BOOST_TEST(repr(-std::numeric_limits<double>::infinity()) == "-inf");
    BOOST_TEST(format("{epoch}", {{"epoch", 12LL}}) == "12");
}

BOOST_AUTO_TEST_CASE(bad_patterns_and_missing_values_are_refused) {
    check_message([] { xf::checkpoint_filepath("ckpt-{epoch.h5"); }, "without a closing");
    check_message([] { xf::checkpoint_filepath("a}b"); }, "single '}'");
    check_message([] { xf::checkpoint_filepath("{epoch:>3}"); }, "unsupported format spec '>3'");
    check_message([] { xf::checkpoint_filepath("{0}"); }, "expected a name");
    check_message([] { xf::checkpoint_filepath("{epoch!r}"); }, "expected a name");
    check_message([] { xf::checkpoint_filepath("{x:.4}"); }, "give a type");
    check_message(
        [] {
            format("{val_acc}.h5", {{"epoch", 1LL}});
        },
        "filepath \"{val_acc}.h5\": no value named 'val_acc'");
    check_message([] { format("{loss:d}", {{"loss", 0.5}}); }, "'d' formats integers");
}
