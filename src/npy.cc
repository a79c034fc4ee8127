#include "normcheck/npy.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string_view>
#include <vector>

// .npy stores little-endian data ('<' descrs) and we copy bytes straight into tensors.
static_assert(std::endian::native == std::endian::little,
              "normcheck's .npy I/O assumes a little-endian host");

namespace normcheck {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
// numpy starts the data at a multiple of 64 bytes (ARRAY_ALIGN in numpy/lib/format.py), so that a
// memory-mapped array is aligned for any SIMD load.
constexpr std::size_t kDataAlign = 64;
// A header longer than this is not a header: numpy's own np.load refuses more than 10,000 bytes by
// default (max_header_size); we allow more but still refuse to read megabytes of "dict".
constexpr std::size_t kMaxHeaderBytes = std::size_t{1} << 20;
// Non-contiguous views are written through a buffer of this size.
constexpr std::size_t kWriteChunkBytes = std::size_t{1} << 20;

using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

Status fail(const std::string& path, const std::string& message) {
  return Status::error(path + ": " + message);
}

/// Bytes from a file as printable one-line text in quotes: non-printable bytes and '\' as \xNN, cut
/// after kMax.
std::string printable(std::string_view bytes) {
  constexpr std::size_t kMax = 64;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (std::size_t i = 0; i < bytes.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  out += '\'';
  if (bytes.size() > kMax) out += "...";
  return out;
}

/// The header text without the trailing spaces and newline that pad it (noise in a message).
std::string_view without_padding(std::string_view s) {
  return s.substr(0, s.find_last_not_of(" \t\r\n") + 1);
}

std::string tuple_text(const std::vector<std::int64_t>& dims) {
  std::string out = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(dims[i]);
  }
  if (dims.size() == 1) out += ',';
  return out + ")";
}

// ---- dtype <-> descr -----------------------------------------------------------------------------

std::string_view descr_of(DType t) {
  switch (t) {
    case DType::kFloat64:
      return "<f8";
    case DType::kFloat32:
      return "<f4";
    case DType::kFloat16:
      return "<f2";
    // ml_dtypes' name; numpy without ml_dtypes imported cannot load it (np.dtype('bfloat16') fails).
    case DType::kBFloat16:
      return "bfloat16";
  }
  return "";
}

Expected<DType> dtype_of(std::string_view descr) {
  if (descr == "<f8") return DType::kFloat64;
  if (descr == "<f4") return DType::kFloat32;
  if (descr == "<f2") return DType::kFloat16;
  // np.save of an ml_dtypes bfloat16 array writes dtype.str, which is '<V2' (ml_dtypes issue #41):
  // a 2-byte opaque type, which we read as bfloat16 since that is what produces it in practice.
  if (descr == "bfloat16" || descr == "<V2") return DType::kBFloat16;
  if (descr.size() == 3 && descr[0] == '>' && descr[1] == 'f') {
    return Status::error("Expected a little-endian descr, but got '" + std::string(descr) +
                         "' (big-endian data is not supported)");
  }
  return Status::error(
      "Expected descr '<f8', '<f4', '<f2', 'bfloat16' or '<V2' (bfloat16 as np.save writes it), but got " +
      printable(descr));
}

// ---- the header dict -----------------------------------------------------------------------------

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

/// A strict parser for the Python literal numpy writes:
///   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
/// keys in any order, each exactly once, optional trailing commas, a 1-tuple needs its comma (as in
/// Python, where (3) is not a tuple), and nothing but whitespace after the closing brace.
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : s_(text) {}

  Expected<Header> parse() {
    Header h;
    bool seen[3] = {false, false, false};
    skip_space();
    if (!eat('{')) return expected("a dict '{...}'");
    while (true) {
      skip_space();
      if (eat('}')) break;
      const std::size_t key_pos = pos_;
      auto key = parse_string();
      if (!key) return expected("a quoted key or '}'");
      skip_space();
      if (!eat(':')) return expected("':' after key " + printable(*key));
      skip_space();
      int slot = *key == "descr" ? 0 : *key == "fortran_order" ? 1 : *key == "shape" ? 2 : -1;
      if (slot < 0) {
        pos_ = key_pos;
        return expected("only the keys 'descr', 'fortran_order', 'shape'");
      }
      if (seen[slot]) {
        pos_ = key_pos;
        return expected("each key once");
      }
      seen[slot] = true;
      if (slot == 0) {
        auto d = parse_string();
        if (!d) return expected("a quoted string for 'descr'");
        h.descr = std::move(*d);
      } else if (slot == 1) {
        auto b = parse_bool();
        if (!b) return expected("True or False for 'fortran_order'");
        h.fortran_order = *b;
      } else {
        NC_RETURN_IF_ERROR(parse_tuple(h.shape));
      }
      skip_space();
      if (eat(',')) continue;
      if (eat('}')) break;
      return expected("',' or '}'");
    }
    skip_space();
    if (pos_ != s_.size()) return expected("only spaces and a newline after the header dict");
    static constexpr const char* kKeys[] = {"descr", "fortran_order", "shape"};
    for (int i = 0; i < 3; ++i) {
      if (!seen[i]) {
        return Status::error(std::string("Expected the key '") + kKeys[i] + "' in the header, but got " +
                             printable(without_padding(s_)));
      }
    }
    return h;
  }

 private:
  Status expected(const std::string& what) const {
    const std::string_view rest = without_padding(s_.substr(pos_));
    return Status::error("Expected " + what + " at header offset " + std::to_string(pos_) + ", but got " +
                         (rest.empty() ? std::string("the end of the header") : printable(rest)));
  }
  void skip_space() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool eat_word(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  /// 'text' or "text", without escapes (numpy's descrs and keys never need one).
  std::optional<std::string> parse_string() {
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) return std::nullopt;
    const char quote = s_[pos_];
    const std::size_t end = s_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view body = s_.substr(pos_ + 1, end - pos_ - 1);
    if (body.find('\\') != std::string_view::npos) return std::nullopt;
    pos_ = end + 1;
    return std::string(body);
  }
  std::optional<bool> parse_bool() {
    if (eat_word("True")) return true;
    if (eat_word("False")) return false;
    return std::nullopt;
  }
  std::optional<std::int64_t> parse_int() {
    const std::size_t start = pos_;
    bool negative = eat('-');
    std::int64_t v = 0;
    bool any = false;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      const int digit = s_[pos_] - '0';
      // Accumulate negatively so that the sign is applied without overflow at the end.
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_sub_overflow(v, digit, &v)) {
        pos_ = start;
        return std::nullopt;
      }
      ++pos_;
      any = true;
    }
    if (!any || (!negative && v == INT64_MIN)) {
      pos_ = start;
      return std::nullopt;
    }
    return negative ? v : -v;
  }
  /// (), (3,), (2, 3), (2, 3,)
  Status parse_tuple(std::vector<std::int64_t>& dims) {
    const std::size_t start = pos_;
    if (!eat('(')) return expected("a tuple of ints for 'shape'");
    skip_space();
    bool trailing_comma = false;
    while (!eat(')')) {
      auto d = parse_int();
      if (!d) return expected("an int in 'shape'");
      dims.push_back(*d);
      skip_space();
      trailing_comma = eat(',');
      skip_space();
      if (!trailing_comma && (pos_ >= s_.size() || s_[pos_] != ')')) return expected("',' or ')' in 'shape'");
    }
    if (dims.size() == 1 && !trailing_comma) {
      pos_ = start;
      return expected("a tuple for 'shape' (a 1-tuple needs a trailing comma, as in (3,))");
    }
    return {};
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// ---- strided walks -------------------------------------------------------------------------------

/// Visits the elements of a strided array in logical row-major order, tracking the element offset.
class RowMajorWalk {
 public:
  RowMajorWalk(const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& strides)
      : shape_(shape), strides_(strides), index_(shape.size(), 0) {}
  std::int64_t offset() const { return offset_; }
  void next() {
    for (std::size_t d = shape_.size(); d-- > 0;) {
      offset_ += strides_[d];
      if (++index_[d] < shape_[d]) return;
      offset_ -= strides_[d] * shape_[d];
      index_[d] = 0;
    }
  }

 private:
  const std::vector<std::int64_t>& shape_;
  const std::vector<std::int64_t>& strides_;
  std::vector<std::int64_t> index_;
  std::int64_t offset_ = 0;
};

/// Row-major strides, except that dims of size 1 may have any stride (they never move).
bool is_row_major(const TensorView& v) {
  std::int64_t expected = 1;
  for (std::size_t d = v.shape.size(); d-- > 0;) {
    if (v.shape[d] != 1 && v.strides[d] != expected) return false;
    expected *= v.shape[d];
  }
  return true;
}

/// numel * itemsize, or nullopt on int64 overflow (dims already checked non-negative).
std::optional<std::int64_t> byte_count(const std::vector<std::int64_t>& shape, std::size_t itemsize) {
  std::int64_t n = static_cast<std::int64_t>(itemsize);
  for (std::int64_t d : shape) {
    if (__builtin_mul_overflow(n, d, &n)) return std::nullopt;
  }
  return n;
}

// ---- reading -------------------------------------------------------------------------------------

std::string errno_text() { return std::strerror(errno); }

Expected<Tensor> read_npy_file(const std::string& path, std::FILE* f) {
  struct stat st {};
  if (fstat(fileno(f), &st) != 0) return fail(path, "cannot read: " + errno_text());
  if (S_ISDIR(st.st_mode)) return fail(path, "cannot read: " + std::string(std::strerror(EISDIR)));
  const auto file_size = static_cast<std::uint64_t>(st.st_size);

  // Prefix: magic (6), version (2), header length (2 for 1.0, 4 for 2.0 and 3.0).
  unsigned char prefix[12] = {};
  const std::size_t got = std::fread(prefix, 1, sizeof prefix, f);
  if (std::ferror(f)) return fail(path, "cannot read: " + errno_text());
  const std::string_view head(reinterpret_cast<const char*>(prefix), got);
  if (head.substr(0, kMagic.size()) != kMagic) {
    return fail(path, "Expected a .npy file (magic \\x93NUMPY), but got " + printable(head));
  }
  if (got < 8)
    return fail(path, "Expected a format version after the magic, but the file ends after " +
                          std::to_string(got) + " bytes");
  const int major = prefix[6], minor = prefix[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    return fail(path, "Expected .npy format version 1.0, 2.0 or 3.0, but got " + std::to_string(major) + "." +
                          std::to_string(minor));
  }
  const std::size_t prefix_size = major == 1 ? 10 : 12;
  if (got < prefix_size) {
    return fail(path, "Expected a " + std::to_string(prefix_size) + "-byte prefix for version " +
                          std::to_string(major) + ".0, but the file has only " + std::to_string(got) +
                          " bytes");
  }
  std::uint64_t header_len = prefix[8] | (std::uint64_t{prefix[9]} << 8);
  if (major > 1) header_len |= (std::uint64_t{prefix[10]} << 16) | (std::uint64_t{prefix[11]} << 24);
  if (header_len > file_size - prefix_size) {
    return fail(path, "Expected a header of " + std::to_string(header_len) + " bytes after the " +
                          std::to_string(prefix_size) + "-byte prefix, but the file has only " +
                          std::to_string(file_size - prefix_size) + " bytes after it (truncated header)");
  }
  if (header_len > kMaxHeaderBytes) {
    return fail(path, "Expected a header of at most " + std::to_string(kMaxHeaderBytes) + " bytes, but got " +
                          std::to_string(header_len));
  }

  std::string header(header_len, '\0');
  if (std::fseek(f, static_cast<long>(prefix_size), SEEK_SET) != 0 ||
      std::fread(header.data(), 1, header.size(), f) != header.size()) {
    return fail(path, "cannot read the header: " + errno_text());
  }
  auto h = HeaderParser(header).parse();
  if (!h) return fail(path, h.message());
  auto dtype = dtype_of(h->descr);
  if (!dtype) return fail(path, dtype.message());
  for (std::int64_t d : h->shape) {
    if (d < 0) return fail(path, "Expected non-negative dims in 'shape', but got " + tuple_text(h->shape));
  }
  const std::size_t itemsize = size_of(*dtype);
  // The tensor's row-major strides count a 0 dim as 1 (as PyTorch's do, so that they stay
  // distinct): an empty array such as (0, 2**62, 4) must pass that product too, or computing its
  // strides overflows (found by fuzz/npy_fuzz.cc).
  std::vector<std::int64_t> strided_extent(h->shape);
  for (std::int64_t& d : strided_extent) d = std::max<std::int64_t>(d, 1);
  const auto nbytes = byte_count(h->shape, itemsize);
  if (!nbytes || !byte_count(strided_extent, itemsize)) {
    return fail(path, "Expected a 'shape' whose size in bytes fits in int64 (counting 0 dims as 1), but got " +
                          tuple_text(h->shape));
  }
  const std::uint64_t data_offset = prefix_size + header_len;
  const std::uint64_t available = file_size - data_offset;
  if (available != static_cast<std::uint64_t>(*nbytes)) {
    return fail(
        path, "Expected " + std::to_string(*nbytes) + " bytes of data for shape " + tuple_text(h->shape) +
                  " of '" + h->descr + "', but got " + std::to_string(available) +
                  (available < static_cast<std::uint64_t>(*nbytes) ? " (truncated data)" : " (extra data)"));
  }

  Tensor t;
  std::vector<unsigned char> fortran;
  try {
    t = Tensor::empty(*dtype, h->shape);
    if (h->fortran_order) fortran.resize(static_cast<std::size_t>(*nbytes));
  } catch (const std::bad_alloc&) {
    return fail(path, "cannot allocate " + std::to_string(*nbytes) + " bytes for the data");
  }
  auto* dst = static_cast<unsigned char*>(t.data());
  unsigned char* read_into = h->fortran_order ? fortran.data() : dst;
  if (*nbytes > 0 &&
      std::fread(read_into, 1, static_cast<std::size_t>(*nbytes), f) != static_cast<std::size_t>(*nbytes)) {
    return fail(path, "cannot read the data: " +
                          (std::ferror(f) ? errno_text() : std::string("unexpected end of file")));
  }
  if (h->fortran_order && *nbytes > 0) {
    // Column-major strides: the first dim moves fastest.
    std::vector<std::int64_t> strides(h->shape.size());
    std::int64_t s = 1;
    for (std::size_t d = 0; d < h->shape.size(); ++d) strides[d] = s, s *= h->shape[d];
    RowMajorWalk walk(h->shape, strides);
    const std::int64_t n = *nbytes / static_cast<std::int64_t>(itemsize);
    for (std::int64_t i = 0; i < n; ++i, walk.next()) {
      std::memcpy(dst + i * itemsize, fortran.data() + walk.offset() * itemsize, itemsize);
    }
  }
  return t;
}

// ---- writing -------------------------------------------------------------------------------------

/// The prefix and header dict, padded with spaces and ended by '\n' so the data starts at a
/// multiple of kDataAlign. Version 1.0 unless the header needs more than 65535 bytes.
std::string header_bytes(const TensorView& v) {
  std::string dict = "{'descr': '" + std::string(descr_of(v.dtype)) +
                     "', 'fortran_order': False, 'shape': " + tuple_text(v.shape) + ", }";
  std::size_t prefix_size = 10;
  auto padded = [&] { return (prefix_size + dict.size() + 1 + kDataAlign - 1) / kDataAlign * kDataAlign; };
  if (padded() - prefix_size > 0xffff) prefix_size = 12;
  const std::size_t total = padded();
  const std::size_t header_len = total - prefix_size;
  std::string out(kMagic);
  out += static_cast<char>(prefix_size == 10 ? 1 : 2);
  out += '\0';
  for (std::size_t i = 0; i < prefix_size - 8; ++i) out += static_cast<char>((header_len >> (8 * i)) & 0xff);
  out += dict;
  out.append(total - out.size() - 1, ' ');
  out += '\n';
  return out;
}

Status check_writable(const std::string& path, const TensorView& v) {
  if (v.device != Device::kCPU) return fail(path, "Expected a CPU tensor to write, but got a CUDA tensor");
  if (v.strides.size() != v.shape.size()) {
    return fail(path, "Expected as many strides as dims, but got " + std::to_string(v.strides.size()) +
                          " strides for shape " + tuple_text(v.shape));
  }
  for (std::int64_t d : v.shape) {
    if (d < 0) return fail(path, "Expected non-negative dims, but got shape " + tuple_text(v.shape));
  }
  const auto nbytes = byte_count(v.shape, size_of(v.dtype));
  if (!nbytes)
    return fail(path, "Expected a shape whose size in bytes fits in int64, but got " + tuple_text(v.shape));
  if (*nbytes > 0 && v.data == nullptr)
    return fail(path, "Expected data for a non-empty tensor, but got null");
  return {};
}

/// Writes the elements of v in logical row-major order.
bool write_data(std::FILE* f, const TensorView& v) {
  const std::size_t itemsize = size_of(v.dtype);
  const std::int64_t n = v.numel();
  if (n == 0) return true;
  const auto* src = static_cast<const unsigned char*>(v.data);
  if (is_row_major(v))
    return std::fwrite(src, itemsize, static_cast<std::size_t>(n), f) == static_cast<std::size_t>(n);
  std::vector<unsigned char> buffer;
  buffer.reserve(kWriteChunkBytes);
  RowMajorWalk walk(v.shape, v.strides);
  for (std::int64_t i = 0; i < n; ++i, walk.next()) {
    const unsigned char* e = src + walk.offset() * static_cast<std::int64_t>(itemsize);
    buffer.insert(buffer.end(), e, e + itemsize);
    if (buffer.size() + itemsize > kWriteChunkBytes || i + 1 == n) {
      if (std::fwrite(buffer.data(), 1, buffer.size(), f) != buffer.size()) return false;
      buffer.clear();
    }
  }
  return true;
}

}  // namespace

Expected<Tensor> read_npy(const std::string& path) {
  File f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return fail(path, "cannot open: " + errno_text());
  return read_npy_file(path, f.get());
}

Status write_npy(const std::string& path, const TensorView& v) {
  NC_RETURN_IF_ERROR(check_writable(path, v));
  // Write a sibling temp file and rename it over path, so readers never see a partial file.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* raw = std::fopen(tmp.c_str(), "wb");
  if (!raw) return fail(path, "cannot open " + tmp + " for writing: " + errno_text());
  const std::string header = header_bytes(v);
  bool ok = std::fwrite(header.data(), 1, header.size(), raw) == header.size() && write_data(raw, v);
  std::string error = ok ? "" : errno_text();
  if (std::fclose(raw) != 0 && ok) {
    ok = false;
    error = errno_text();
  }
  if (!ok) {
    std::remove(tmp.c_str());
    return fail(path, "cannot write " + tmp + ": " + error);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = errno_text();
    std::remove(tmp.c_str());
    return fail(path, "cannot rename " + tmp + " to it: " + error);
  }
  return {};
}

}  // namespace normcheck
