// The HDF5 wrapper and the atomic save: errors name the file and object, string attributes in
// both h5py styles, Keras' attribute chunking, and a save failed midway (fault-injection hook)
// leaving the previous file byte for byte and no temporary file behind.
#define BOOST_TEST_MODULE io_hdf5_file
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <iterator>
#include <xfuse/hdf5.hpp>

#include "io/keras_h5_fixtures.hpp"
#include "support/seed_model.hpp"

namespace xf = xfuse;
using namespace h5test;

namespace {

std::string bytes_of(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// Throws at the n-th dataset write (1-based) of every save while alive.
struct failing_writes {
    explicit failing_writes(int n) {
        xf::io::detail::before_dataset_write() = [n, seen = 0](const fs::path& file,
                                                               std::string_view object) mutable {
            if (++seen == n)
                throw std::runtime_error("injected failure writing " + std::string(object) +
                                         " to " + file.string());
        };
    }
    ~failing_writes() { xf::io::detail::before_dataset_write() = nullptr; }
};

}  // namespace

BOOST_AUTO_TEST_CASE(attribute_chunks_split_like_numpy_array_split) {
    using xf::io::detail::attribute_chunks;
    BOOST_TEST(attribute_chunks({}).size() == 1u);
    BOOST_TEST(attribute_chunks({"a", "bb"}).size() == 1u);
    // 5000 names of 20 bytes: 100000 bytes > 64512, so two chunks of 2500 (numpy's split).
    std::vector<std::string> names(5000, std::string(20, 'x'));
    auto chunks = attribute_chunks(names);
    BOOST_TEST(chunks.size() == 2u);
    BOOST_TEST(chunks[0].size() == 2500u);
    // 7 names of 20000 bytes: 3 per chunk is 60000, so ceil(7 / 3) -> 3 chunks of 3, 2, 2.
    names.assign(7, std::string(20000, 'x'));
    chunks = attribute_chunks(names);
    BOOST_TEST(chunks.size() == 3u);
    BOOST_TEST(chunks[0].size() == 3u);
    BOOST_TEST(chunks[2].size() == 2u);
}

BOOST_AUTO_TEST_CASE(strings_round_trip_and_errors_name_file_and_object) {
    scratch_dir dir;
    const fs::path path = dir.path / "s.h5";
    xf::io::atomic_save(path, [](xf::io::hdf5_file& file) {
        file.create_group("/a/b");
        file.write_strings("/a/b", "names", {"x", "", "longer name"});
        file.write_strings("/", "one", {"tensorflow"}, true);
        file.write_empty_list("/a", "none");
        file.write_int64("/a/count", -3);
    });
    const xf::io::detail::hdf5_session session;
    const auto file = xf::io::hdf5_file::open_read_only(path);
    BOOST_TEST(file.read_strings("/a/b", "names") ==
               (std::vector<std::string>{"x", "", "longer name"}));
    BOOST_TEST(file.read_strings("/", "one") == std::vector<std::string>{"tensorflow"});
    BOOST_TEST(file.read_strings("/a", "none").empty());
    BOOST_TEST(file.read_int64("/a/count") == -3);
    BOOST_TEST(file.dataset("/a/count").dtype == "int64");
    BOOST_TEST(file.is_group("/a/b"));
    BOOST_TEST(!file.exists("/a/c/d"));
    BOOST_TEST(!file.is_dataset("/a/b"));
    check_throws<xf::io::hdf5_error>([&] { file.read_floats("/a/missing"); },
                                     {"s.h5", "/a/missing", "cannot open the dataset", "HDF5:"});
    check_throws<xf::io::hdf5_error>([&] { file.read_strings("/a", "absent"); },
                                     {"s.h5", "/a attribute 'absent'"});
}

BOOST_AUTO_TEST_CASE(a_save_failing_midway_leaves_the_old_file_intact) {
    scratch_dir dir;
    const fs::path path = dir.path / "w.h5";
    auto model = seed::build();
    model.set_weights(fixture_weights(model.get_weights(), 1));
    model.save_weights(path);
    const std::string saved = bytes_of(path);

    auto changed = seed::build();
    changed.set_weights(fixture_weights(changed.get_weights(), 2));
    for (int n : {1, 3, 8}) {  // first, a middle and the last of the 8 datasets
        failing_writes fault(n);
        check_throws<std::runtime_error>([&] { changed.save_weights(path); },
                                         {"injected failure", ".tmp-"});
        BOOST_TEST(bytes_of(path) == saved);
        BOOST_TEST(dir.entries() == std::vector<std::string>{"w.h5"});  // no temporary left
    }
    auto reloaded = seed::build();
    reloaded.load_weights(path);
    BOOST_TEST(same_bits(reloaded.get_weights(), model.get_weights()));

    // Without the fault the same save goes through.
    changed.save_weights(path);
    reloaded.load_weights(path);
    BOOST_TEST(same_bits(reloaded.get_weights(), changed.get_weights()));
    BOOST_TEST(dir.entries() == std::vector<std::string>{"w.h5"});
}

BOOST_AUTO_TEST_CASE(a_save_into_a_missing_directory_fails_and_creates_nothing) {
    scratch_dir dir;
    auto model = seed::build();
    check_throws<xf::io::hdf5_error>([&] { model.save_weights(dir.path / "no" / "w.h5"); },
                                     {"cannot create the file", "w.h5.tmp-"});
    BOOST_TEST(dir.entries().empty());
}
