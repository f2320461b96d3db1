// fit, evaluate and predict for outputs of rank 2: a per-position Dense<C, softmax> on a (T, D)
// sequence, with dense (N, T, C) and sparse (N, T) labels. One epoch against the numpy reference
// (tests/data/make_sequence_output_fixture.py); every loss against the rank-1 model on the N*T
// rows flattened (the same weights), which must give the same loss, metrics and steps, since
// Keras reduces a (T, C) output over all N*T positions; bad labels rejected before any weight
// changes, naming the expected and the given shapes, or the sample and position of a bad class.
#define BOOST_TEST_MODULE train_sequence_outputs
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <xfuse/xfuse.hpp>
#include <xtensor/xview.hpp>

#include "support/fixture_reader.hpp"
#include "support/weight_difference.hpp"

namespace xf = xfuse;

namespace {

// A fixture array (rows of values) as a tensor of the given shape.
template <std::size_t Rank>
xt::xtensor<float, Rank> as_tensor(const fixture::array& a,
                                   const std::array<std::size_t, Rank>& shape) {
    xt::xtensor<float, Rank> t(shape);
    BOOST_TEST_REQUIRE(t.size() == a.values.size());
    std::copy(a.values.begin(), a.values.end(), t.begin());
    return t;
}

std::vector<xt::xarray<float>> fixture_weights(const fixture::file& data,
                                               const std::string& prefix) {
    std::vector<xt::xarray<float>> weights;
    for (const char* name : {"W1", "b1", "W2", "b2"}) {
        const fixture::array& a = data.at(prefix + name);
        xt::xarray<float> w = xt::xarray<float>::from_shape({a.rows, a.cols});
        std::copy(a.values.begin(), a.values.end(), w.begin());
        if (name[0] == 'b')
            w.reshape({a.cols});
        weights.push_back(std::move(w));
    }
    return weights;
}

// The fixture's model: Input((3, 4)), Dense(6, relu), Dense(5, softmax) per position.
constexpr std::size_t N = 10, T = 3, D = 4, C = 5;

auto fixture_model() {
    auto in = xf::Input<T, D>{};
    auto hidden = xf::Dense<6, xf::relu>{}(in);
    return xf::Model{xf::inputs(in), xf::Dense<C, xf::softmax, "tags">{}(hidden)};
}

// The same network with its softmax as an Activation layer of its own (the same weights).
auto activation_layer_model() {
    auto in = xf::Input<T, D>{};
    auto logits = xf::Dense<C>{}(xf::Dense<6, xf::relu>{}(in));
    return xf::Model{xf::inputs(in), xf::Activation<xf::softmax>{}(logits)};
}

// The fixture's model (made by `make_model`) trained one epoch from its initial weights (10
// samples in batches of 4, no shuffling), checked against the fixture's run `run`: the epoch's
// loss and metric, the weights.
template <class MakeModel, class Optimizer, class Loss, class Metric, class Labels>
auto check_one_epoch(MakeModel make_model, const fixture::file& data, const std::string& run,
                     const Optimizer& optimizer, const Loss& loss, const Metric& metric,
                     const Labels& labels) {
    auto model = make_model();
    model.set_weights(fixture_weights(data, "initial_"));
    model.compile(optimizer, loss, xf::metrics(metric));
    std::ostringstream quiet;
    const xf::History h = model.fit(
        as_tensor<3>(data.at("x"), {N, T, D}), labels,
        xf::FitOptions{.epochs = 1, .batch_size = 4, .shuffle = false, .verbose = 0}, quiet);
    BOOST_TEST(h.history.at("loss").at(0) == data.at(run + "_epoch_loss")(0, 0),
               boost::test_tools::tolerance(1e-5));
    BOOST_TEST(h.history.at(metric.name).at(0) == data.at(run + "_epoch_accuracy")(0, 0),
               boost::test_tools::tolerance(1e-9));
    BOOST_TEST(max_weight_difference(model.get_weights(), fixture_weights(data, run + "_final_")) <=
               1e-5);
    BOOST_TEST(model.optimizer_states().at(0).iterations == 3);
    return model;
}

}  // namespace

BOOST_AUTO_TEST_CASE(sparse_labels_one_epoch_matches_the_numpy_reference) {
    const fixture::file data(XFUSE_TEST_DATA "/sequence_output_fixture.txt");
    const auto x = as_tensor<3>(data.at("x"), {N, T, D});
    const auto labels = as_tensor<2>(data.at("labels"), {N, T});
    auto model = check_one_epoch(fixture_model, data, "sparse", xf::SGD{.learning_rate = 0.5f},
                                 xf::SparseCategoricalCrossentropy{},
                                 xf::SparseCategoricalAccuracy{}, labels);

    // evaluate with the final weights; class indices as int32, as a Keras user has them.
    const std::vector<double> evaluated = model.evaluate(x, labels);
    BOOST_TEST(evaluated.at(0) == data.at("evaluate_loss")(0, 0),
               boost::test_tools::tolerance(1e-5));
    BOOST_TEST(evaluated.at(1) == data.at("evaluate_accuracy")(0, 0),
               boost::test_tools::tolerance(1e-9));
    const xt::xtensor<std::int32_t, 2> int_labels = xt::cast<std::int32_t>(labels);
    BOOST_TEST(model.evaluate(x, int_labels) == evaluated);
    // Keras also takes the class indices with a trailing axis of 1, and batches of any size
    // give the same mean (batches of 3, 3, 3 and 1 samples).
    xt::xtensor<float, 3> column({N, T, 1});
    std::copy(labels.begin(), labels.end(), column.begin());
    BOOST_TEST(model.evaluate(x, column) == evaluated);
    const std::vector<double> in_batches = model.evaluate(x, labels, 3);
    BOOST_TEST(in_batches.at(0) == evaluated.at(0), boost::test_tools::tolerance(1e-6));
    BOOST_TEST(in_batches.at(1) == evaluated.at(1));
}

BOOST_AUTO_TEST_CASE(dense_labels_one_epoch_matches_the_numpy_reference) {
    const fixture::file data(XFUSE_TEST_DATA "/sequence_output_fixture.txt");
    check_one_epoch(fixture_model, data, "dense", xf::Adam{}, xf::CategoricalCrossentropy{},
                    xf::CategoricalAccuracy{}, as_tensor<3>(data.at("onehot"), {N, T, C}));
}

BOOST_AUTO_TEST_CASE(an_activation_layer_output_trains_through_the_logits_per_position) {
    // Keras attaches the logits to the softmax whichever layer applies it: the same run.
    const fixture::file data(XFUSE_TEST_DATA "/sequence_output_fixture.txt");
    check_one_epoch(activation_layer_model, data, "sparse", xf::SGD{.learning_rate = 0.5f},
                    xf::SparseCategoricalCrossentropy{}, xf::SparseCategoricalAccuracy{},
                    as_tensor<2>(data.at("labels"), {N, T}));
    check_one_epoch(activation_layer_model, data, "dense", xf::Adam{},
                    xf::CategoricalCrossentropy{}, xf::CategoricalAccuracy{},
                    as_tensor<3>(data.at("onehot"), {N, T, C}));
}

BOOST_AUTO_TEST_CASE(validation_takes_the_last_samples_with_all_their_positions) {
    const fixture::file data(XFUSE_TEST_DATA "/sequence_output_fixture.txt");
    auto model = fixture_model();
    model.set_weights(fixture_weights(data, "initial_"));
    model.compile(xf::SGD{.learning_rate = 0.5f}, xf::SparseCategoricalCrossentropy{},
                  xf::metrics(xf::SparseCategoricalAccuracy{}));
    const auto x = as_tensor<3>(data.at("x"), {N, T, D});
    const auto labels = as_tensor<2>(data.at("labels"), {N, T});
    const xf::FitOptions options{
        .epochs = 1, .batch_size = 4, .validation_split = 0.3f, .shuffle = false, .verbose = 0};
    std::ostringstream quiet;
    const xf::History h = model.fit(x, labels, options, quiet);
    // val_* is evaluate() on the last samples with the final weights.
    const std::size_t first = options.training_rows(N);
    BOOST_TEST_REQUIRE(first == 7u);
    const xt::xtensor<float, 3> x_validation = xt::view(x, xt::range(first, N));
    const xt::xtensor<float, 2> labels_validation = xt::view(labels, xt::range(first, N));
    const std::vector<double> evaluated = model.evaluate(x_validation, labels_validation);
    BOOST_TEST(h.history.at("val_loss").at(0) == evaluated.at(0),
               boost::test_tools::tolerance(1e-6));
    BOOST_TEST(h.history.at("val_sparse_categorical_accuracy").at(0) == evaluated.at(1));
}

BOOST_AUTO_TEST_CASE(predict_gives_a_distribution_per_position) {
    const fixture::file data(XFUSE_TEST_DATA "/sequence_output_fixture.txt");
    auto model = fixture_model();
    model.set_weights(fixture_weights(data, "initial_"));
    const auto x = as_tensor<3>(data.at("x"), {N, T, D});
    const xt::xtensor<float, 3> p = model.predict(x);
    BOOST_TEST_REQUIRE((p.shape() == std::array<std::size_t, 3>{N, T, C}));
    BOOST_TEST(xt::allclose(xt::sum(p, {2}), xt::ones<float>({N, T}), 1e-6));
    // The single-sample call on sample 7 gives the batch's rows of sample 7.
    xt::xtensor_fixed<float, xt::xshape<T, D>> sample;
    std::copy_n(x.data() + 7 * T * D, T * D, sample.begin());
    const auto one = model(sample);
    for (std::size_t t = 0; t < T; ++t)
        for (std::size_t c = 0; c < C; ++c)
            BOOST_TEST(one(t, c) == p(7, t, c), boost::test_tools::tolerance(1e-6f));
}

namespace {

// (rows, width) normal values, deterministic.
xt::xtensor<float, 2> random_rows(std::size_t rows, std::size_t width, unsigned seed) {
    std::mt19937 engine(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    xt::xtensor<float, 2> x({rows, width});
    for (float& v : x)
        v = normal(engine);
    return x;
}

// The same values with another shape (row-major: a reshape).
xt::xarray<float> reshaped(const xt::xtensor<float, 2>& rows,
                           const std::vector<std::size_t>& shape) {
    xt::xarray<float> t = xt::xarray<float>::from_shape(shape);
    BOOST_TEST_REQUIRE(t.size() == rows.size());
    std::copy(rows.begin(), rows.end(), t.begin());
    return t;
}

// The Input of shape (Dims...) (an alias template takes no pack into its fixed axes).
template <class Tag, std::size_t... Dims>
struct input_of;
template <class Tag, std::size_t D0, std::size_t D1>
struct input_of<Tag, D0, D1> {
    using type = xf::tagged::Input<Tag, D0, D1>;
};
template <class Tag, std::size_t D0, std::size_t D1, std::size_t D2>
struct input_of<Tag, D0, D1, D2> {
    using type = xf::tagged::Input<Tag, D0, D1, D2>;
};

// A model whose output has the positions (Positions...) and Units values at each, on inputs of
// shape (Positions..., 6), and the rank-1 model on rows of 6, with the same weights, seen on the
// same values: the first model's N samples are the flat model's N*P rows (P positions per
// sample), and `label_rows` are the flat model's labels. Keras' loss is a mean over positions,
// so both must give the same evaluate() values, the same epoch loss and metrics, and the same
// weights after an epoch in batches of B samples (B*P rows).
template <auto Output, std::size_t Units, std::size_t... Positions, class Loss, class... Metrics>
void check_same_as_flattened_rows(const Loss& loss, const xt::xtensor<float, 2>& label_rows,
                                  Metrics... metrics) {
    constexpr std::size_t width = 6, samples = 7, batch = 3;  // batches of 3, 3, 1 samples
    constexpr std::size_t positions = (Positions * ...);
    // Inside a template, layers name their identity (layers/tagged.hpp).
    auto sequence_in = typename input_of<struct sequence_in, Positions..., width>::type{};
    auto sequence =
        xf::Model{xf::inputs(sequence_in),
                  xf::tagged::Dense<struct sequence_out, Units, Output>{}(
                      xf::tagged::Dense<struct sequence_hidden, 9, xf::relu>{}(sequence_in))};
    auto flat_in = xf::tagged::Input<struct flat_in, width>{};
    auto flat = xf::Model{xf::inputs(flat_in),
                          xf::tagged::Dense<struct flat_out, Units, Output>{}(
                              xf::tagged::Dense<struct flat_hidden, 9, xf::relu>{}(flat_in))};
    sequence.initialize_weights(5);
    auto weights = sequence.get_weights();
    weights[1] += 0.05f;  // non-zero biases: their gradients sum over positions too
    weights[3] -= 0.05f;
    sequence.set_weights(weights);
    flat.set_weights(weights);

    const auto x_rows = random_rows(samples * positions, width, 17);
    const auto x = reshaped(x_rows, {samples, Positions..., width});
    BOOST_TEST_REQUIRE(label_rows.shape(0) == samples * positions);
    // Class indices are one per position, (N, Positions...); other labels one row per position.
    const auto y = std::is_same_v<Loss, xf::SparseCategoricalCrossentropy>
                       ? reshaped(label_rows, {samples, Positions...})
                       : reshaped(label_rows, {samples, Positions..., label_rows.shape(1)});

    sequence.compile(xf::SGD{.learning_rate = 0.5f}, loss, xf::metrics(metrics...));
    flat.compile(xf::SGD{.learning_rate = 0.5f}, loss, xf::metrics(metrics...));
    const std::vector<double> sequence_values = sequence.evaluate(x, y);
    const std::vector<double> flat_values = flat.evaluate(x_rows, label_rows, 64);
    BOOST_TEST_REQUIRE(sequence_values.size() == flat_values.size());
    for (std::size_t i = 0; i < flat_values.size(); ++i)
        BOOST_TEST(sequence_values[i] == flat_values[i], boost::test_tools::tolerance(1e-5));
    // The rank-1 output's class indices may also come without their axis of 1, as in Keras.
    if constexpr (std::is_same_v<Loss, xf::SparseCategoricalCrossentropy>)
        BOOST_TEST(flat.evaluate(x_rows, reshaped(label_rows, {samples * positions}), 64) ==
                   flat_values);

    std::ostringstream quiet;
    const xf::History a = sequence.fit(
        x, y, xf::FitOptions{.epochs = 1, .batch_size = batch, .shuffle = false, .verbose = 0},
        quiet);
    const xf::History b =
        flat.fit(x_rows, label_rows,
                 xf::FitOptions{
                     .epochs = 1, .batch_size = batch * positions, .shuffle = false, .verbose = 0},
                 quiet);
    for (const auto& [name, values] : b.history)
        BOOST_TEST(a.history.at(name).at(0) == values.at(0), boost::test_tools::tolerance(1e-5));
    BOOST_TEST(max_weight_difference(sequence.get_weights(), flat.get_weights()) < 1e-5);
    BOOST_TEST(max_weight_difference(sequence.get_weights(), weights) > 1e-3);  // it trained
}

// (rows, units) labels: one-hot rows, or independent 0/1 values.
xt::xtensor<float, 2> class_labels(std::size_t rows, std::size_t units, bool one_hot,
                                   unsigned seed) {
    std::mt19937 engine(seed);
    std::uniform_int_distribution<std::size_t> pick(0, units - 1);
    xt::xtensor<float, 2> y = xt::zeros<float>({rows, units});
    for (std::size_t r = 0; r < rows; ++r)
        if (one_hot)
            y(r, pick(engine)) = 1.0f;
        else
            for (std::size_t u = 0; u < units; ++u)
                y(r, u) = float(pick(engine) % 2);
    return y;
}

// Class indices, one row each.
xt::xtensor<float, 2> class_indices(std::size_t rows, std::size_t classes, unsigned seed) {
    std::mt19937 engine(seed);
    std::uniform_int_distribution<std::size_t> pick(0, classes - 1);
    xt::xtensor<float, 2> y({rows, 1});
    for (float& v : y)
        v = float(pick(engine));
    return y;
}

constexpr std::size_t steps = 5, rows = 7 * steps;

}  // namespace

BOOST_AUTO_TEST_CASE(crossentropies_through_the_logits_equal_the_flattened_rows) {
    check_same_as_flattened_rows<xf::softmax, 7, steps>(
        xf::CategoricalCrossentropy{}, class_labels(rows, 7, true, 1), xf::CategoricalAccuracy{});
    check_same_as_flattened_rows<xf::softmax, 7, steps>(xf::SparseCategoricalCrossentropy{},
                                                        class_indices(rows, 7, 2),
                                                        xf::SparseCategoricalAccuracy{});
    check_same_as_flattened_rows<xf::sigmoid, 3, steps>(
        xf::BinaryCrossentropy{}, class_labels(rows, 3, false, 3), xf::BinaryAccuracy{});
    // A linear output whose values the loss takes as logits.
    check_same_as_flattened_rows<xf::linear, 7, steps>(
        xf::CategoricalCrossentropy{.from_logits = true, .label_smoothing = 0.1f},
        class_labels(rows, 7, true, 4), xf::CategoricalAccuracy{});
}

BOOST_AUTO_TEST_CASE(regression_losses_equal_the_flattened_rows) {
    const auto targets = [](unsigned seed) {
        return xt::xtensor<float, 2>(random_rows(rows, 3, seed) * 0.7f);
    };
    check_same_as_flattened_rows<xf::linear, 3, steps>(xf::MeanSquaredError{}, targets(5),
                                                       xf::MeanAbsoluteError{});
    check_same_as_flattened_rows<xf::linear, 3, steps>(xf::MeanAbsoluteError{}, targets(6));
    check_same_as_flattened_rows<xf::linear, 3, steps>(xf::Huber{.delta = 0.5f}, targets(7));
    // Probabilities, not logits: the softmax output read by MSE.
    check_same_as_flattened_rows<xf::softmax, 7, steps>(
        xf::MeanSquaredError{}, class_labels(rows, 7, true, 8), xf::CategoricalAccuracy{});
}

BOOST_AUTO_TEST_CASE(outputs_of_rank_3_reduce_over_all_their_positions) {
    // (2, 3, C) per sample: 6 positions.
    check_same_as_flattened_rows<xf::softmax, 4, 2, 3>(xf::SparseCategoricalCrossentropy{},
                                                       class_indices(7 * 6, 4, 9),
                                                       xf::SparseCategoricalAccuracy{});
    check_same_as_flattened_rows<xf::sigmoid, 3, 2, 3>(
        xf::BinaryCrossentropy{}, class_labels(7 * 6, 3, false, 10), xf::BinaryAccuracy{});
}

BOOST_AUTO_TEST_CASE(bad_labels_are_rejected_before_any_weight_changes) {
    auto model = fixture_model();
    model.compile(xf::SGD{}, xf::SparseCategoricalCrossentropy{});
    const auto x = reshaped(random_rows(4 * T, D, 9), {4, T, D});
    const auto before = model.get_weights();
    const auto rejects = [&](auto&& call, std::initializer_list<std::string> fragments) {
        try {
            call();
            BOOST_ERROR("accepted");
        } catch (const std::invalid_argument& e) {
            for (const std::string& fragment : fragments)
                BOOST_TEST(std::string(e.what()).find(fragment) != std::string::npos,
                           "'" << fragment << "' in: " << e.what());
        }
        BOOST_TEST(max_weight_difference(model.get_weights(), before) == 0.0);
        BOOST_TEST(model.optimizer_states().empty());
    };
    std::ostringstream quiet;
    const xf::FitOptions options{.epochs = 1, .verbose = 0};
    // Sparse labels of the (3, 5) output: (4, 3), or (4, 3, 1).
    rejects(
        [&] {
            model.fit(x, xt::xtensor<float, 2>(xt::zeros<float>({4, 5})), options, quiet);
        },
        {"Model::fit labels y for output 'tags'", "expected shape (4, 3) or (4, 3, 1)",
         "got (4, 5)"});
    rejects(
        [&] {
            model.evaluate(x, xt::xtensor<float, 2>(xt::zeros<float>({5, 3})));
        },
        {"Model::evaluate labels y for output 'tags'", "got (5, 3)"});
    rejects(
        [&] {
            model.fit(x, xt::xtensor<float, 3>(xt::zeros<float>({4, 3, 5})), options, quiet);
        },
        {"expected shape (4, 3) or (4, 3, 1)", "got (4, 3, 5)"});
    xt::xtensor<float, 2> labels = xt::zeros<float>({4, 3});
    labels(2, 1) = 5.0f;  // one past the last class
    rejects(
        [&] { model.fit(x, labels, options, quiet); },
        {"labels y for output 'tags'", "sample 2, position 1", "class index 5", "outside [0, 5)"});
    labels(2, 1) = 1.5f;
    rejects([&] { model.evaluate(x, labels); }, {"sample 2, position 1", "class index 1.5"});
    labels(2, 1) = -1.0f;
    rejects([&] { model.fit(x, labels, options, quiet); }, {"class index -1"});
    labels(2, 1) = std::numeric_limits<float>::quiet_NaN();
    rejects([&] { model.fit(x, labels, options, quiet); }, {"must be finite"});

    // Dense labels: the output's shape.
    model.compile(xf::SGD{}, xf::CategoricalCrossentropy{});
    rejects(
        [&] {
            model.fit(x, xt::xtensor<float, 2>(xt::zeros<float>({4, 3})), options, quiet);
        },
        {"expected shape (4, 3, 5), got (4, 3)"});
    rejects(
        [&] {
            model.fit(x, xt::xtensor<float, 3>(xt::zeros<float>({4, 5, 3})), options, quiet);
        },
        {"expected shape (4, 3, 5), got (4, 5, 3)"});
}
