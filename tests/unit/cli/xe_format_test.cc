#include <gtest/gtest.h>

#include "cli/xe/format.h"

namespace hvnet::xe {
namespace {

TEST(XeFormat, RecordLayoutMatchesXe) {
  const auto* cls = model::find_class("network");
  nlohmann::json rec = {{"uuid", "u-1"},
                        {"name_label", "foo"},
                        {"name_description", ""},
                        {"bridge", "xapi0"},
                        {"other_config", {{"a", "1"}, {"b", "2"}}},
                        {"PIFs", {"OpaqueRef:p1", "OpaqueRef:p2"}}};
  std::vector<const model::FieldSpec*> fields = {cls->field("uuid"), cls->field("name_label"),
                                                 cls->field("bridge"), cls->field("PIFs"),
                                                 cls->field("other_config")};
  EXPECT_EQ(format_record(*cls, rec, fields),
            "uuid ( RO)            : u-1\n"
            "      name-label ( RW): foo\n"
            "          bridge ( RO): xapi0\n"
            "       PIF-uuids (SRO): p1; p2\n"
            "    other-config (MRW): a: 1; b: 2\n"
            "\n");
}

TEST(XeFormat, MinimalEscapesSeparators) {
  EXPECT_EQ(format_minimal({"a", "b,c", "d\\e"}), "a,b\\,c,d\\\\e");
  EXPECT_EQ(format_minimal({}), "");
}

TEST(XeFormat, NullRefsShowAsNotInDatabase) {
  const auto* pif = model::find_class("PIF");
  EXPECT_EQ(display_value(*pif->field("bond_slave_of"), "OpaqueRef:NULL"), "<not in database>");
  EXPECT_EQ(display_value(*pif->field("currently_attached"), true), "true");
  EXPECT_EQ(display_value(*pif->field("VLAN"), -1), "-1");
}

}  // namespace
}  // namespace hvnet::xe
