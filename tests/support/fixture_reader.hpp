// Reads the plain-text fixtures written by tests/data/*.py: arrays one after another, each a
// line `name rows cols` followed by `rows` lines of `cols` numbers; '#' lines are comments.
// Values stay double, as the scripts wrote them; a test rounds to float where the library does.
#pragma once

#include <cstddef>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fixture {

struct array {
    std::size_t rows = 0, cols = 0;
    std::vector<double> values;  // row-major

    double operator()(std::size_t r, std::size_t c) const { return values.at(r * cols + c); }
    std::vector<float> as_float() const { return {values.begin(), values.end()}; }
};

class file {
  public:
    explicit file(const std::string& path) {
        std::ifstream in(path);
        if (!in)
            throw std::runtime_error("fixture: cannot open " + path);
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty() || line[0] == '#')
                continue;
            std::istringstream header(line);
            std::string name;
            array a;
            if (!(header >> name >> a.rows >> a.cols))
                throw std::runtime_error("fixture: bad header line '" + line + "' in " + path);
            a.values.resize(a.rows * a.cols);
            for (double& v : a.values)
                if (!(in >> v))
                    throw std::runtime_error("fixture: array '" + name + "' is truncated");
            in.ignore(1);  // the newline after the last value
            arrays_.emplace(std::move(name), std::move(a));
        }
    }

    const array& at(const std::string& name) const {
        auto it = arrays_.find(name);
        if (it == arrays_.end())
            throw std::runtime_error("fixture: no array named '" + name + "'");
        return it->second;
    }
    bool contains(const std::string& name) const { return arrays_.count(name) != 0; }

  private:
    std::map<std::string, array> arrays_;
};

}  // namespace fixture
