// parse_json_strict and read_bounded (report/strict_json.h): the one JSON reader of normcheck
// refuses a duplicate key (naming it, its path and the file), nesting past kMaxJsonDepth and a file
// past its size limit, each in one line; what a correct document may contain still reads.
#include "report/strict_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace normcheck::report {
namespace {

using ::testing::HasSubstr;

std::string nested(int levels) { return std::string(levels, '[') + std::string(levels, ']'); }

std::string error_of(const std::string& text) {
  const Expected<nlohmann::json> doc = parse_json_strict(text, "a JSON test document", "t.json");
  return doc ? std::string("(accepted)") : doc.message();
}

TEST(StrictJson, ReadsADocumentWithTheSameKeyInSiblingObjects) {
  const Expected<nlohmann::json> doc = parse_json_strict(
      R"({"rows": [{"op": "a", "v": [1, {"op": 2}]}, {"op": "b"}], "op": {"op": 3}})", "a JSON test document", "t.json");
  ASSERT_TRUE(doc) << doc.message();
  EXPECT_EQ((*doc)["rows"][1]["op"], "b");
  EXPECT_EQ((*doc)["op"]["op"], 3);
}

TEST(StrictJson, ADuplicateKeyIsRefusedWithItsPathAndTheFile) {
  // The issue's cases: a second "dtypes" (the last one would win), a second multiplier, a second rows.
  EXPECT_EQ(error_of(R"({"dtypes": ["float32", "float16"], "ops": [], "dtypes": ["float32"]})"),
            "Expected a JSON test document (each key once per object, nested at most 64 deep), but got the key "
            "\"dtypes\" twice, at dtypes in t.json");
  EXPECT_THAT(error_of(R"({"tolerance_multiplier": {"float32": 1, "float32": 1000000}})"),
              HasSubstr("but got the key \"float32\" twice, at tolerance_multiplier.float32 in t.json"));
  EXPECT_THAT(error_of(R"({"rows": [], "seed": 1, "rows": [{"op": "x"}]})"), HasSubstr("\"rows\" twice, at rows in"));
  EXPECT_THAT(error_of(R"({"rows": [{"op": 1}, [], {"op": 1, "op": 2}]})"), HasSubstr("twice, at rows[2].op in"));
  EXPECT_THAT(error_of(R"([[0, {"a b": {"k": 1, "k": 1}}]])"), HasSubstr("twice, at [0][1].\"a b\".k in"));
}

TEST(StrictJson, ADuplicateKeyWithControlCharactersStaysOneLine) {
  const std::string message = error_of("{\"a\\nb\\u001b[31m\": 1, \"a\\nb\\u001b[31m\": 2}");
  EXPECT_THAT(message, HasSubstr(R"("a\nb\u001b[31m" twice)"));
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.find('\x1b'), std::string::npos) << message;
}

TEST(StrictJson, NestingIsLimitedToMaxDepth) {
  EXPECT_EQ(error_of(nested(kMaxJsonDepth)), "(accepted)");
  EXPECT_THAT(error_of(nested(kMaxJsonDepth + 1)), HasSubstr("but got more than 64 levels of nesting in t.json"));
  // The issue's crash (SIGSEGV): 100,000 open brackets, unclosed, and closed.
  EXPECT_THAT(error_of(std::string(100'000, '[')), HasSubstr("more than 64 levels of nesting"));
  EXPECT_THAT(error_of(nested(100'000)), HasSubstr("more than 64 levels of nesting"));
  std::string objects;
  for (int i = 0; i < 100'000; ++i) objects += "{\"k\": ";
  EXPECT_THAT(error_of(objects), HasSubstr("more than 64 levels of nesting"));
}

TEST(StrictJson, ParseErrorsAreOneLineNamingTheFile) {
  EXPECT_THAT(error_of("{\"a\": "), HasSubstr("Expected a JSON test document, but got a parse error at line 1"));
  EXPECT_THAT(error_of("{\"a\": \"x\ny\"}"), HasSubstr(" in t.json"));
  EXPECT_EQ(error_of("{\"a\": \"x\ny\"}").find('\n'), std::string::npos);
  EXPECT_THAT(error_of(R"({"a": 1e999})"), HasSubstr("but got a number overflow"));
}

class ReadBounded : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    std::ofstream(path_, std::ios::binary) << text;
    return path_;
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_ = (std::filesystem::temp_directory_path() / "nc-strict-json-test.json").string();
};

TEST_F(ReadBounded, ReadsUpToTheLimitAndRefusesMore) {
  const Expected<std::string> at_limit = read_bounded(write(std::string(1000, ' ')), "test file", 1000);
  ASSERT_TRUE(at_limit) << at_limit.message();
  EXPECT_EQ(at_limit->size(), 1000u);
  const Expected<std::string> over = read_bounded(write(std::string(1001, ' ')), "test file", 1000);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.message(), "Expected a test file of at most 1000 bytes, but got more at " + path_);
}

TEST_F(ReadBounded, AnEndlessFileStopsAtTheLimit) {
  // /dev/zero never ends: the read stops after kMaxJsonBytes + 1 bytes.
  const Expected<std::string> zeros = read_bounded("/dev/zero", "policy file");
  ASSERT_FALSE(zeros);
  EXPECT_EQ(zeros.message(), "Expected a policy file of at most 64 MiB, but got more at /dev/zero");
}

TEST_F(ReadBounded, AMissingFileOrADirectoryIsAnErrorNamingIt) {
  EXPECT_EQ(read_bounded("/nonexistent/p.json", "policy file").message(),
            "Expected a readable policy file, but got none at /nonexistent/p.json");
  const std::string dir = std::filesystem::temp_directory_path().string();
  EXPECT_THAT(read_bounded(dir, "policy file").message(), HasSubstr(dir));
}

}  // namespace
}  // namespace normcheck::report
