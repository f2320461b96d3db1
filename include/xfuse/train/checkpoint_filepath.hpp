// ModelCheckpoint's file names: Python's str.format as Keras applies it to `filepath`
// (filepath.format(epoch=epoch + 1, **logs)), for the fields and specs people write there:
//
//   "ckpt-{epoch:02d}.h5"              ckpt-03.h5      (epoch is 1-based, as in Keras)
//   "best-{val_loss:.4f}.h5"           best-0.6931.h5
//   "{epoch}-{loss:.2e}-{accuracy}"    3-6.93e-01-0.75 (no spec: Python's repr of the float)
//
// A spec is [0][width][.precision][type] with type d, f, F, e, E, g, G or % (a precision needs
// one), or no type: integers in decimal, floats as Python's repr; "{{" and
// "}}" are literal braces. Anything else (fill and alignment, signs, "!r", positional fields) is
// refused when the pattern is parsed, and a field with no value when it is formatted, both with
// std::invalid_argument naming the pattern.
#pragma once

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace xfuse {

namespace detail {

// Python's repr(float): the shortest digits that read back, fixed notation for exponents in
// [-4, 16), scientific otherwise, and ".0" on integral values ("100.0", "1e-05", "1e+16").
inline std::string python_float_repr(double value) {
    if (std::isnan(value))
        return "nan";
    if (std::isinf(value))
        return value < 0 ? "-inf" : "inf";
    char buffer[64];
    const auto end =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific).ptr;
    const std::string text(buffer, end);  // "-1.2345e-05"
    const std::size_t e = text.find('e');
    const int exponent = std::atoi(text.c_str() + e + 1);
    if (exponent < -4 || exponent >= 16)
        return text;
    const bool negative = text[0] == '-';
    std::string digits;
    for (std::size_t i = negative ? 1 : 0; i < e; ++i)
        if (text[i] != '.')
            digits += text[i];
    std::string fixed;
    if (exponent < 0) {
        fixed = "0." + std::string(std::size_t(-exponent - 1), '0') + digits;
    } else {
        if (digits.size() <= std::size_t(exponent) + 1)
            digits.append(std::size_t(exponent) + 1 - digits.size(), '0');
        fixed = digits.substr(0, std::size_t(exponent) + 1);
        fixed += "." + (digits.size() > std::size_t(exponent) + 1
                            ? digits.substr(std::size_t(exponent) + 1)
                            : std::string("0"));
    }
    return (negative ? "-" : "") + fixed;
}

}  // namespace detail

class checkpoint_filepath {
  public:
    // Values are integers (epoch, batch) or floats (the logs).
    using value = std::variant<long long, double>;
    using lookup = std::function<std::optional<value>(std::string_view)>;

    explicit checkpoint_filepath(std::string pattern) : pattern_(std::move(pattern)) { parse(); }

    const std::string& pattern() const noexcept { return pattern_; }
    bool uses(std::string_view field) const {
        for (const piece& p : pieces_)
            if (p.is_field && p.text == field)
                return true;
        return false;
    }

    std::string format(const lookup& values) const {
        std::string result;
        for (const piece& p : pieces_) {
            if (!p.is_field) {
                result += p.text;
                continue;
            }
            const std::optional<value> v = values(p.text);
            if (!v)
                fail("no value named '" + p.text + "' (fields are epoch, batch and the logs)");
            result += format_value(p, *v);
        }
        return result;
    }

  private:
    struct piece {
        bool is_field = false;
        std::string text;  // the literal, or the field's name
        bool zero = false;
        int width = 0;
        int precision = -1;
        char type = 0;
    };

    [[noreturn]] void fail(const std::string& what) const {
        throw std::invalid_argument("xfuse::ModelCheckpoint: filepath \"" + pattern_ +
                                    "\": " + what);
    }

    void parse() {
        std::string literal;
        for (std::size_t i = 0; i < pattern_.size(); ++i) {
            const char c = pattern_[i];
            if ((c == '{' || c == '}') && i + 1 < pattern_.size() && pattern_[i + 1] == c) {
                literal += c;
                ++i;
            } else if (c == '}') {
                fail("single '}' (write '}}' for a brace)");
            } else if (c == '{') {
                const std::size_t close = pattern_.find('}', i);
                if (close == std::string::npos)
                    fail("'{' without a closing '}'");
                pieces_.push_back({false, std::move(literal)});
                literal.clear();
                pieces_.push_back(parse_field(pattern_.substr(i + 1, close - i - 1)));
                i = close;
            } else {
                literal += c;
            }
        }
        pieces_.push_back({false, std::move(literal)});
    }

    piece parse_field(const std::string& field) const {
        piece p{true, {}};
        const std::size_t colon = field.find(':');
        p.text = field.substr(0, colon);
        const bool identifier = !p.text.empty() &&
                                !std::isdigit(static_cast<unsigned char>(p.text[0])) &&
                                p.text.find_first_not_of(
                                    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789_") == std::string::npos;
        if (!identifier)
            fail("field '{" + field + "}': expected a name such as {epoch} or {val_loss:.4f}");
        if (colon == std::string::npos)
            return p;
        const std::string spec = field.substr(colon + 1);
        std::size_t i = 0;
        const auto number = [&] {
            int n = 0;
            while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])))
                n = n * 10 + (spec[i++] - '0');
            return n;
        };
        if (i < spec.size() && spec[i] == '0')
            p.zero = true, ++i;
        p.width = number();
        if (i < spec.size() && spec[i] == '.') {
            ++i;
            const std::size_t start = i;
            p.precision = number();
            if (i == start)
                fail("field '{" + field + "}': '.' needs a precision");
        }
        if (i < spec.size() && std::string_view("dfFeEgG%").find(spec[i]) != std::string::npos)
            p.type = spec[i++];
        if (i != spec.size())
            fail("field '{" + field + "}': unsupported format spec '" + spec +
                 "' (supported: [0][width][.precision][d|f|e|g|%])");
        if (p.type == 'd' && p.precision >= 0)
            fail("field '{" + field + "}': precision not allowed with 'd'");
        // Python's ".4" without a type is neither %g nor fixed; ask for the one meant.
        if (p.type == 0 && p.precision >= 0)
            fail("field '{" + field + "}': give a type after the precision (f, e, g or %)");
        return p;
    }

    std::string format_value(const piece& p, const value& v) const {
        std::string text;
        if (const long long* integer = std::get_if<long long>(&v); integer && p.type == 0) {
            text = std::to_string(*integer);
        } else if (integer && p.type == 'd') {
            text = std::to_string(*integer);
        } else if (p.type == 'd') {
            fail("field '" + p.text + "': 'd' formats integers, '" + p.text + "' is a float");
        } else {
            const double x = integer ? double(*integer) : std::get<double>(v);
            if (p.type == 0) {
                text = detail::python_float_repr(x);
            } else {
                const char type = p.type == '%' ? 'f' : p.type;
                const int precision = p.precision < 0 ? 6 : p.precision;
                const std::string format = std::string("%.*") + type;
                char buffer[512];
                std::snprintf(buffer, sizeof buffer, format.c_str(), precision,
                              p.type == '%' ? x * 100 : x);
                text = buffer;
                if (p.type == '%')
                    text += '%';
            }
        }
        if (int(text.size()) < p.width) {
            const std::size_t pad = std::size_t(p.width) - text.size();
            if (p.zero) {
                const std::size_t sign = !text.empty() && text[0] == '-' ? 1 : 0;
                text.insert(sign, pad, '0');
            } else {
                // Python right-aligns numbers.
                text.insert(0, pad, ' ');
            }
        }
        return text;
    }

    std::string pattern_;
    std::vector<piece> pieces_;
};

}  // namespace xfuse
