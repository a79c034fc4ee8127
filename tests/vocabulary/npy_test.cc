#include "normcheck/npy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace normcheck {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class NpyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("normcheck-npy-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string path(const std::string& file) { return (dir_ / file).string(); }

  static void write_bytes(const std::string& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << p;
  }
  static std::string read_bytes(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  /// The message of reading a file made of bytes; it must fail, name the file and be one line.
  static std::string read_error(const std::string& file, const std::string& bytes) {
    const std::string p = path(file);
    write_bytes(p, bytes);
    auto t = read_npy(p);
    EXPECT_FALSE(t.ok()) << file;
    if (t.ok()) return "";
    EXPECT_THAT(t.message(), StartsWith(p + ": "));
    EXPECT_EQ(t.message().find('\n'), std::string::npos) << t.message();
    return t.message();
  }

  static fs::path dir_;
};
fs::path NpyTest::dir_;

/// A .npy file by hand: prefix of the given version, the dict padded like numpy does, the data.
std::string npy_file(const std::string& dict, const std::string& data, int major = 1) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (std::size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

template <class T>
std::string bytes_of(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

/// Deterministic values with a spread of magnitudes and signs, including a zero.
std::vector<double> sample_values(std::int64_t n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    v[static_cast<std::size_t>(i)] =
        (i % 2 ? -1.0 : 1.0) * std::ldexp(1.0 + 0.37 * static_cast<double>(i), static_cast<int>(i % 7) - 3);
  }
  if (n > 0) v[0] = 0.0;
  return v;
}

std::int64_t count(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

// ---- writing and reading back --------------------------------------------------------------------

TEST_F(NpyTest, RoundTripEveryDTypeAndRank0To4) {
  const std::vector<std::vector<std::int64_t>> shapes = {{},           {5},    {2, 3},   {2, 3, 4},
                                                         {2, 1, 3, 2}, {0, 3}, {3, 0, 2}};
  for (DType dt : kAllDTypes) {
    for (const auto& shape : shapes) {
      SCOPED_TRACE(std::string(name(dt)) + " rank " + std::to_string(shape.size()));
      const std::vector<double> values = sample_values(count(shape));
      const Tensor t = Tensor::from_values(dt, shape, values);
      const std::string p = path("round_trip.npy");
      ASSERT_TRUE(write_npy(p, t.view()).ok());
      auto back = read_npy(p);
      ASSERT_TRUE(back.ok()) << back.message();
      EXPECT_EQ(back->dtype(), dt);
      EXPECT_EQ(back->shape(), shape);
      EXPECT_EQ(back->values(), t.values());
      const std::size_t nbytes = static_cast<std::size_t>(t.numel()) * size_of(dt);
      if (nbytes > 0) {
        EXPECT_EQ(std::memcmp(back->data(), t.data(), nbytes), 0) << "bit-exact, NaN payloads included";
      }
    }
  }
}

TEST_F(NpyTest, WritesNumpyHeaderVersion1AlignedTo64) {
  const Tensor t = Tensor::from_values(DType::kFloat32, {2, 3}, sample_values(6));
  const std::string p = path("header.npy");
  ASSERT_TRUE(write_npy(p, t.view()).ok());
  const std::string bytes = read_bytes(p);
  ASSERT_GE(bytes.size(), 64u + 24u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const std::size_t header_len =
      static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  const std::size_t data_offset = 10 + header_len;
  EXPECT_EQ(data_offset % 64, 0u);
  EXPECT_EQ(bytes[data_offset - 1], '\n');
  EXPECT_EQ(bytes.size(), data_offset + 6 * 4);
  const std::string header = bytes.substr(10, header_len);
  EXPECT_THAT(header, StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"));
  EXPECT_EQ(header.find_first_not_of(' ', header.find('}') + 1), header_len - 1) << "padded with spaces";

  const std::vector<std::pair<DType, std::string>> descrs = {
      {DType::kFloat64, "'<f8'"}, {DType::kFloat16, "'<f2'"}, {DType::kBFloat16, "'bfloat16'"}};
  for (const auto& [dt, descr] : descrs) {
    ASSERT_TRUE(write_npy(p, Tensor::from_values(dt, {4}, sample_values(4)).view()).ok());
    EXPECT_THAT(read_bytes(p),
                HasSubstr("{'descr': " + descr + ", 'fortran_order': False, 'shape': (4,), }"));
  }
  ASSERT_TRUE(write_npy(p, Tensor::from_values(DType::kFloat64, {}, sample_values(1)).view()).ok());
  EXPECT_THAT(read_bytes(p), HasSubstr("'shape': (), }"));
}

TEST_F(NpyTest, WriteIsAtomicAndLeavesNoTempFile) {
  const std::string p = path("atomic.npy");
  write_bytes(p, "old contents");
  ASSERT_TRUE(write_npy(p, Tensor::from_values(DType::kFloat64, {3}, sample_values(3)).view()).ok());
  EXPECT_TRUE(read_npy(p).ok());
  EXPECT_FALSE(fs::exists(p + ".tmp." + std::to_string(::getpid())));

  const std::string missing_dir = path("no/such/dir/x.npy");
  const Status s = write_npy(missing_dir, Tensor::from_values(DType::kFloat64, {3}, sample_values(3)).view());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), StartsWith(missing_dir + ": "));
  EXPECT_THAT(s.message(), HasSubstr("No such file or directory"));
}

TEST_F(NpyTest, WritesNonContiguousViewsInLogicalRowMajorOrder) {
  for (DType dt : kAllDTypes) {
    SCOPED_TRACE(name(dt));
    const Tensor base = Tensor::from_values(dt, {4, 6}, sample_values(24));
    const std::vector<double> b = base.values();  // b[r * 6 + c]
    const std::size_t item = size_of(dt);
    auto* data = static_cast<unsigned char*>(base.data());

    // Transposed: shape (6, 4), element (i, j) = base(j, i).
    TensorView transposed{data, dt, {6, 4}, {1, 6}};
    // Every other column, rows reversed: element (i, j) = base(3 - i, 2 * j).
    TensorView strided{data + 3 * 6 * item, dt, {4, 3}, {-6, 2}};
    // A broadcast-like view with stride 0: element (i, j) = base(0, j).
    TensorView repeated{data, dt, {3, 6}, {0, 1}};

    struct Case {
      TensorView v;
      std::vector<double> want;
    };
    std::vector<Case> cases;
    std::vector<double> w;
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 4; ++j) w.push_back(b[static_cast<std::size_t>(j * 6 + i)]);
    cases.push_back({transposed, w});
    w.clear();
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 3; ++j) w.push_back(b[static_cast<std::size_t>((3 - i) * 6 + 2 * j)]);
    cases.push_back({strided, w});
    w.clear();
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 6; ++j) w.push_back(b[static_cast<std::size_t>(j)]);
    cases.push_back({repeated, w});

    for (const Case& c : cases) {
      const std::string p = path("view.npy");
      ASSERT_TRUE(write_npy(p, c.v).ok());
      auto back = read_npy(p);
      ASSERT_TRUE(back.ok()) << back.message();
      EXPECT_EQ(back->shape(), c.v.shape);
      EXPECT_EQ(back->values(), c.want);
    }
  }
}

// ---- reading files written elsewhere ------------------------------------------------------------

TEST_F(NpyTest, ReadsFormatVersions2And3) {
  const std::vector<float> values = {1.5f, -2.0f, 0.25f, 3.0f, 0.0f, -0.5f};
  for (int major : {2, 3}) {
    const std::string p = path(std::to_string(major) + "_0.npy");
    write_bytes(
        p, npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", bytes_of(values), major));
    auto t = read_npy(p);
    ASSERT_TRUE(t.ok()) << t.message();
    EXPECT_EQ(t->dtype(), DType::kFloat32);
    EXPECT_EQ(t->shape(), (std::vector<std::int64_t>{3, 2}));
    EXPECT_EQ(t->values(), (std::vector<double>{1.5, -2.0, 0.25, 3.0, 0.0, -0.5}));
  }
}

TEST_F(NpyTest, ReadsFortranOrderAsRowMajor) {
  // x = [[0, 1, 2], [3, 4, 5]] stored column by column.
  const std::vector<double> column_major = {0, 3, 1, 4, 2, 5};
  const std::string p = path("fortran.npy");
  write_bytes(p,
              npy_file("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", bytes_of(column_major)));
  auto t = read_npy(p);
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(t->shape(), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(t->values(), (std::vector<double>{0, 1, 2, 3, 4, 5}));

  // Rank 3, (2, 3, 4): element (i, j, k) sits at i + 2 * j + 6 * k in the file.
  std::vector<std::uint16_t> halves(24);
  std::vector<double> want(24);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) {
      for (int k = 0; k < 4; ++k) {
        const double v = i * 100 + j * 10 + k;
        halves[static_cast<std::size_t>(i + 2 * j + 6 * k)] = half_bits_from_double(v);
        want[static_cast<std::size_t>(i * 12 + j * 4 + k)] = v;
      }
    }
  }
  write_bytes(p, npy_file("{'descr': '<f2', 'fortran_order': True, 'shape': (2, 3, 4), }", bytes_of(halves)));
  t = read_npy(p);
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(t->dtype(), DType::kFloat16);
  EXPECT_EQ(t->values(), want);
}

TEST_F(NpyTest, AcceptsTheHeaderSpellingsPythonAllows) {
  const std::vector<double> one = {2.5};
  const std::vector<double> three = {1, 2, 3};
  struct Case {
    std::string dict, data;
    std::vector<std::int64_t> shape;
  };
  const Case cases[] = {
      {"{'shape': (3,), 'fortran_order': False, 'descr': '<f8'}", bytes_of(three), {3}},
      {"{\"descr\":\"<f8\",\"fortran_order\":False,\"shape\":(3,)}", bytes_of(three), {3}},
      {"{ 'descr' : '<f8' , 'fortran_order' : False , 'shape' : ( 3 , ) , }", bytes_of(three), {3}},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (), }", bytes_of(one), {}},
      {"{'descr': '<f8', 'fortran_order': True, 'shape': (1, 3,), }", bytes_of(three), {1, 3}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.dict);
    const std::string p = path("spelling.npy");
    write_bytes(p, npy_file(c.dict, c.data));
    auto t = read_npy(p);
    ASSERT_TRUE(t.ok()) << t.message();
    EXPECT_EQ(t->shape(), c.shape);
  }
}

TEST_F(NpyTest, ReadsBFloat16AsMlDtypesAndNumpySaveSpellIt) {
  // 1.0, -2.0, 0.5 in bfloat16.
  const std::vector<std::uint16_t> bits = {0x3f80, 0xc000, 0x3f00};
  for (const std::string descr : {"'bfloat16'", "'<V2'"}) {
    const std::string p = path("bf16.npy");
    write_bytes(
        p, npy_file("{'descr': " + descr + ", 'fortran_order': False, 'shape': (3,), }", bytes_of(bits)));
    auto t = read_npy(p);
    ASSERT_TRUE(t.ok()) << t.message();
    EXPECT_EQ(t->dtype(), DType::kBFloat16);
    EXPECT_EQ(t->values(), (std::vector<double>{1.0, -2.0, 0.5}));
  }
}

// ---- malformed files -----------------------------------------------------------------------------

TEST_F(NpyTest, MissingFileAndDirectory) {
  const std::string p = path("does_not_exist.npy");
  auto t = read_npy(p);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.message(), p + ": cannot open: No such file or directory");
  auto d = read_npy(dir_.string());
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.message(), StartsWith(dir_.string() + ": "));
  EXPECT_THAT(d.message(), HasSubstr("Is a directory"));
}

TEST_F(NpyTest, RejectsMalformedFilesWithAOneLineMessage) {
  const std::string f4x3 = bytes_of(std::vector<float>{1, 2, 3});
  const std::string good = npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f4x3);
  std::string huge_header = good;
  huge_header[6] = 2;  // version 2.0, header length 0xfffffff0
  huge_header.replace(8, 2, std::string("\xf0\xff\xff\xff", 4));
  auto with_dict = [&](const std::string& dict) { return npy_file(dict, f4x3); };

  struct Case {
    std::string file, bytes, message;
  };
  const std::vector<Case> cases = {
      {"empty.npy", "", "Expected a .npy file (magic \\x93NUMPY), but got ''"},
      {"magic.npy", "PK\x03\x04 a zip file",
       "Expected a .npy file (magic \\x93NUMPY), but got 'PK\\x03\\x04 a zip"},
      {"short.npy", std::string("\x93NUMPY\x01", 7), "Expected a format version after the magic"},
      {"version.npy", std::string("\x93NUMPY\x04\x00", 8) + good.substr(8),
       "Expected .npy format version 1.0, 2.0 or 3.0, but got 4.0"},
      {"prefix.npy", good.substr(0, 9),
       "Expected a 10-byte prefix for version 1.0, but the file has only 9 bytes"},
      {"truncated_header.npy", good.substr(0, 40), "(truncated header)"},
      {"huge_header.npy", huge_header, "Expected a header of 4294967280 bytes after the 12-byte prefix"},
      {"truncated_data.npy", good.substr(0, good.size() - 1),
       "Expected 12 bytes of data for shape (3,) of '<f4', but got 11 (truncated data)"},
      {"extra_data.npy", good + "x", "but got 13 (extra data)"},
      {"descr.npy", with_dict("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }"),
       "Expected descr '<f8', '<f4', '<f2', 'bfloat16' or '<V2'"},
      {"big_endian.npy", with_dict("{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }"),
       "big-endian data is not supported"},
      {"descr_list.npy", with_dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }"),
       "Expected a quoted string for 'descr'"},
      {"negative.npy", with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }"),
       "Expected non-negative dims in 'shape', but got (-3,)"},
      {"overflow.npy",
       with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"),
       "Expected a 'shape' whose size in bytes fits in int64"},
      {"bigint.npy",
       with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }"),
       "Expected an int in 'shape'"},
      {"not_dict.npy", with_dict("['descr', '<f4']"),
       "Expected a dict '{...}' at header offset 0, but got '['descr', '<f4']'"},
      {"missing_key.npy", with_dict("{'descr': '<f4', 'shape': (3,), }"),
       "Expected the key 'fortran_order' in the header"},
      {"extra_key.npy", with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}"),
       "Expected only the keys 'descr', 'fortran_order', 'shape'"},
      {"repeated_key.npy",
       with_dict("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}"),
       "Expected each key once"},
      {"one_tuple.npy", with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (3), }"),
       "a 1-tuple needs a trailing comma"},
      {"shape_list.npy", with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': [3], }"),
       "Expected a tuple of ints for 'shape'"},
      {"bool.npy", with_dict("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }"),
       "Expected True or False for 'fortran_order'"},
      {"garbage.npy", with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } junk"),
       "Expected only spaces and a newline after the header dict"},
      {"unclosed.npy", with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), "),
       "Expected a quoted key or '}'"},
      {"unterminated.npy", with_dict("{'descr: '<f4', 'fortran_order': False, 'shape': (3,), }"), "Expected"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    EXPECT_THAT(read_error(c.file, c.bytes), HasSubstr(c.message));
  }
}

// Found by fuzz/npy_fuzz.cc (fixtures/fuzz/npy/empty_big_dims.npy): an EMPTY array whose other dims
// multiply past int64 had no bytes to check, but its row-major strides (0 dims counted as 1)
// overflowed computing them (signed overflow in contiguous_strides, UBSan). Refused like a shape
// too large in bytes; an empty array whose strides fit still reads.
TEST_F(NpyTest, AnEmptyArrayWhoseStridesOverflowIsRefused) {
  const auto dict = [](const std::string& descr, const std::string& shape) {
    return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  };
  EXPECT_THAT(read_error("empty_big_dims.npy", npy_file(dict("<f8", "(0, 4611686018427387904, 4)"), "")),
              HasSubstr("Expected a 'shape' whose size in bytes fits in int64 (counting 0 dims as 1), but got "
                        "(0, 4611686018427387904, 4)"));
  EXPECT_THAT(read_error("empty_big_last.npy", npy_file(dict("<f2", "(4611686018427387904, 0)"), "")),
              HasSubstr("fits in int64"));
  const std::string p = path("empty_fits.npy");
  write_bytes(p, npy_file(dict("<f4", "(0, 1099511627776, 4)"), ""));
  const Expected<Tensor> t = read_npy(p);
  ASSERT_TRUE(t) << t.message();
  EXPECT_EQ(t->shape(), (std::vector<std::int64_t>{0, 1099511627776, 4}));
  EXPECT_EQ(t->numel(), 0);
}

TEST_F(NpyTest, RefusesToWriteImpossibleViews) {
  const std::string p = path("bad_view.npy");
  TensorView no_data{nullptr, DType::kFloat32, {3}, {1}};
  EXPECT_THAT(write_npy(p, no_data).message(), HasSubstr("Expected data for a non-empty tensor"));
  TensorView negative{nullptr, DType::kFloat32, {-1}, {1}};
  EXPECT_THAT(write_npy(p, negative).message(), HasSubstr("Expected non-negative dims"));
  TensorView strides{nullptr, DType::kFloat32, {0, 2}, {1}};
  EXPECT_THAT(write_npy(p, strides).message(), HasSubstr("Expected as many strides as dims"));
  TensorView cuda{nullptr, DType::kFloat32, {0}, {1}, Device::kCUDA};
  EXPECT_THAT(write_npy(p, cuda).message(), HasSubstr("Expected a CPU tensor"));
  EXPECT_FALSE(fs::exists(p));
}

}  // namespace
}  // namespace normcheck
