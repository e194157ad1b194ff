// Config: typed defaults, [quick], TOML overrides, --set parsing and the errors for bad keys.
#include <gtest/gtest.h>

#include "lmlab/core/config.h"
#include "lmlab/core/error.h"

using namespace lmlab;

namespace {
const char kDefaults[] = R"(
epochs = 10
lr = 0.001
name = "adam"
verbose = false
widths = [32, 64]
ratios = [0.5, 1.5]
[train]
batch = 128
[quick]
epochs = 2
train.batch = 32
)";

Config defaults() { return Config::from_toml(kDefaults, "test.toml"); }

// Runs f, which must throw UsageError, and returns the message.
template <typename F>
std::string usage_error_of(F f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no UsageError thrown";
  return "";
}
}  // namespace

TEST(Config, DefaultsAreTypedAndFlattened) {
  Config c = defaults();
  EXPECT_EQ(c.get_int("epochs"), 10);
  EXPECT_DOUBLE_EQ(c.get_float("lr"), 0.001);
  EXPECT_EQ(c.get_string("name"), "adam");
  EXPECT_FALSE(c.get_bool("verbose"));
  EXPECT_EQ(c.get_int_list("widths"), (IntList{32, 64}));
  EXPECT_EQ(c.get_float_list("ratios"), (FloatList{0.5, 1.5}));
  EXPECT_EQ(c.get_int("train.batch"), 128);
  EXPECT_FALSE(c.has("quick.epochs"));
}

TEST(Config, QuickOverridesApplyOnlyWhenAsked) {
  Config c = defaults();
  EXPECT_EQ(c.get_int("epochs"), 10);
  c.apply_quick();
  EXPECT_EQ(c.get_int("epochs"), 2);
  EXPECT_EQ(c.get_int("train.batch"), 32);
}

TEST(Config, SetParsesEveryType) {
  Config c = defaults();
  c.set("epochs=3");
  c.set("lr=1");  // an int where a float is expected is accepted
  c.set("name=sgd");
  c.set("verbose=true");
  c.set("widths=[1, 2, 3]");
  c.set("ratios=[1, 2]");
  c.set("train.batch=7");
  EXPECT_EQ(c.get_int("epochs"), 3);
  EXPECT_DOUBLE_EQ(c.get_float("lr"), 1.0);
  EXPECT_EQ(c.get_string("name"), "sgd");
  EXPECT_TRUE(c.get_bool("verbose"));
  EXPECT_EQ(c.get_int_list("widths"), (IntList{1, 2, 3}));
  EXPECT_EQ(c.get_float_list("ratios"), (FloatList{1.0, 2.0}));
  EXPECT_EQ(c.get_int("train.batch"), 7);
  c.set("name=123");  // string keys take the text as written
  EXPECT_EQ(c.get_string("name"), "123");
  c.set("name=\"gelu\"");  // or a TOML string, unquoted
  EXPECT_EQ(c.get_string("name"), "gelu");
  c.set("name=\"a b\"");
  EXPECT_EQ(c.get_string("name"), "a b");
}

TEST(Config, UnknownKeyListsValidKeysAndTypes) {
  Config c = defaults();
  const std::string msg = usage_error_of([&] { c.set("epoch=3"); });
  EXPECT_NE(msg.find("unknown config key 'epoch'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("epochs (int) = 10"), std::string::npos) << msg;
  EXPECT_NE(msg.find("train.batch (int)"), std::string::npos) << msg;
}

TEST(Config, WrongTypeIsRejected) {
  Config c = defaults();
  std::string msg = usage_error_of([&] { c.set("epochs=0.5"); });
  EXPECT_NE(msg.find("'epochs' takes a value of type int, got the float 0.5"), std::string::npos) << msg;
  msg = usage_error_of([&] { c.set("verbose=yes"); });
  EXPECT_NE(msg.find("of type bool"), std::string::npos) << msg;
  msg = usage_error_of([&] { c.set("widths=[0.5]"); });
  EXPECT_NE(msg.find("of type int list"), std::string::npos) << msg;
  EXPECT_NE(usage_error_of([&] { c.set("noequals"); }).find("key=value"), std::string::npos);
  EXPECT_EQ(c.get_int("epochs"), 10);  // failed overrides change nothing
}

TEST(Config, MergeTomlChecksKeysAndSyntax) {
  Config c = defaults();
  c.merge_toml("epochs = 4\n[train]\nbatch = 16\n", "user.toml");
  EXPECT_EQ(c.get_int("epochs"), 4);
  EXPECT_EQ(c.get_int("train.batch"), 16);
  EXPECT_NE(usage_error_of([&] { c.merge_toml("[train]\nbatchsize = 1\n", "user.toml"); })
                .find("user.toml: unknown config key 'train.batchsize'"),
            std::string::npos);
  EXPECT_NE(usage_error_of([&] { c.merge_toml("epochs = = 4\n", "user.toml"); }).find("user.toml: invalid TOML at line 1"),
            std::string::npos);
}

TEST(Config, BadQuickTableIsRejected) {
  EXPECT_THROW(Config::from_toml("a = 1\n[quick]\nb = 2\n", "d.toml"), UsageError);
  EXPECT_THROW(Config::from_toml("a = 1\n[quick]\na = \"x\"\n", "d.toml"), UsageError);
}

TEST(Config, TomlRoundTrip) {
  Config c = defaults();
  c.set("name=with \"quotes\"");
  Config d = defaults();
  d.merge_toml(c.to_toml(), "roundtrip");
  EXPECT_EQ(c.values(), d.values());
}

TEST(Config, ReadingAnUndeclaredKeyIsAnInternalError) {
  Config c = defaults();
  EXPECT_THROW(c.get_int("missing"), InternalError);
  EXPECT_THROW(c.get_string("epochs"), InternalError);
}

TEST(Config, EmptyDefaultListTakesAnyListType) {
  Config c = Config::from_toml("topics = []\nweights = []\n", "test.toml");
  EXPECT_TRUE(c.get_string_list("topics").empty());
  EXPECT_TRUE(c.get_float_list("weights").empty());
  c.set("topics=[\"art\", \"love\"]");
  EXPECT_EQ(c.get_string_list("topics"), (StringList{"art", "love"}));
  c.set("weights=[0.5]");
  EXPECT_EQ(c.get_float_list("weights"), (FloatList{0.5}));
}

// config.toml holds only UTF-8: a value that is not (found by fuzzing, tests/fuzz/crashes/config)
// is refused where it is given instead of being written in a form that reads back otherwise.
TEST(Config, ValuesThatAreNotUtf8AreRefused) {
  Config c = defaults();
  for (const std::string bad : {"name=\xe3gelu", "name=\"a\xff\"", "name=\xed\xa0\x80", "name=\xc0\xaf"}) {
    try {
      c.set(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("is not valid UTF-8"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(c.merge_toml("name = \"\xe3\"\n", "file.toml"), UsageError);
  c.set("name=gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80");  // two-, three- and four-byte forms
  Config d = defaults();
  d.merge_toml(c.to_toml(), "roundtrip");
  EXPECT_EQ(c.values(), d.values());
}
