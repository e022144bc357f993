#include <gtest/gtest.h>

#include "cli/xe/format.h"
#include "cli/xe/records.h"
#include "model/schema.h"

namespace hvnet::xe {
namespace {

TEST(XeFormat, RecordLayoutMatchesXe) {
  EXPECT_EQ(format_record({{"uuid ( RO)", "u-1"},
                           {"name-label ( RW)", "foo"},
                           {"bridge ( RO)", "xapi0"},
                           {"PIF-uuids (SRO)", display_json({"OpaqueRef:p1", "OpaqueRef:p2"})},
                           {"other-config (MRW)", display_json({{"a", "1"}, {"b", "2"}})}}),
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
  EXPECT_EQ(display_json("OpaqueRef:NULL"), "<not in database>");
  EXPECT_EQ(display_json(true), "true");
  EXPECT_EQ(display_json(-1), "-1");
}

// Every field xe shows directly is a field of the API record, so a layout cannot name a field
// the server never sends.
TEST(XeRecords, DirectFieldsAreApiFields) {
  for (const auto& r : xe_records()) {
    const model::ClassSpec* cls = model::find_class(r.cls);
    ASSERT_NE(cls, nullptr) << r.cls;
    for (const auto& f : r.fields) {
      if (!f.via.empty()) {
        EXPECT_NE(cls->field(f.via), nullptr) << r.cls << "." << f.name;
        continue;
      }
      if (f.show == Show::kCall) continue;  // a message's answer, not a field
      EXPECT_NE(cls->field(f.wire), nullptr) << r.cls << "." << f.name << " -> " << f.wire;
    }
    for (const auto& c : r.list_columns) EXPECT_NE(r.field(c), nullptr) << r.cls << " " << c;
  }
}

}  // namespace
}  // namespace hvnet::xe
