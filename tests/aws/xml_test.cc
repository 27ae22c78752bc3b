#include "aws/xml.h"

#include <gtest/gtest.h>

namespace lathe::aws {
namespace {

std::string Nested(size_t depth) {
  std::string s;
  for (size_t i = 0; i < depth; ++i) s += "<a>";
  for (size_t i = 0; i < depth; ++i) s += "</a>";
  return s;
}

TEST(ParseXmlBounded, ParsesAnS3StyleBody) {
  pugi::xml_document doc;
  Status s = ParseXmlBounded(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><!-- c <a><a><a> -->"
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>a/b&amp;c</Key></Object>"
      "<Quiet a=\"x/>\">true</Quiet><![CDATA[<a><a>]]></Delete>",
      1024, 3, &doc);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_STREQ(doc.document_element().child("Object").child_value("Key"), "a/b&c");
}

TEST(ParseXmlBounded, RefusesDeepNestingBeforeParsing) {
  pugi::xml_document doc;
  EXPECT_TRUE(ParseXmlBounded(Nested(20), 1 << 20, 20, &doc).ok());
  Status deep = ParseXmlBounded(Nested(21), 1 << 20, 20, &doc);
  EXPECT_EQ(deep.aws_code(), "MalformedXML");
  EXPECT_NE(deep.message().find("more than 20 deep"), std::string::npos);
  // Self-closing tags and a '>' inside an attribute value do not fool the count.
  EXPECT_TRUE(CheckXmlDepth("<a><b/><b/><b x='>'/></a>", 2).ok());
  EXPECT_TRUE(CheckXmlDepth("<a x='/>'><b x=\"/>\"><c/></b></a>", 2).ok());
  EXPECT_FALSE(CheckXmlDepth("<a x='/>'><b x=\"/>\"><c/></b></a>", 1).ok());
  // 100000 opening tags are refused in one linear pass.
  std::string many;
  for (int i = 0; i < 100000; ++i) many += "<a>";
  EXPECT_FALSE(CheckXmlDepth(many, 64).ok());
}

TEST(ParseXmlBounded, RefusesOversizeDoctypeAndMalformedBodies) {
  pugi::xml_document doc;
  EXPECT_EQ(ParseXmlBounded(std::string(2000, ' '), 1000, 8, &doc).aws_code(), "MaxMessageLengthExceeded");
  EXPECT_EQ(ParseXmlBounded("<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>", 1000, 8, &doc).aws_code(), "MalformedXML");
  EXPECT_EQ(ParseXmlBounded("<a><b></a>", 1000, 8, &doc).aws_code(), "MalformedXML");
  EXPECT_EQ(ParseXmlBounded("", 1000, 8, &doc).aws_code(), "MalformedXML");
  EXPECT_EQ(ParseXmlBounded("just text", 1000, 8, &doc).aws_code(), "MalformedXML");
}

TEST(XmlText, WritesOnlyCharactersXml10Allows) {
  EXPECT_EQ(XmlText("plain\ttab\nline"), "plain\ttab\nline");
  EXPECT_EQ(XmlText(std::string("a\0b", 3)), "a\xEF\xBF\xBD" "b");
  pugi::xml_document doc;
  AppendTextElement(doc, "V", "x<y>&\"z\x02");
  EXPECT_EQ(XmlToString(doc), "<V>x&lt;y&gt;&amp;\"z\xEF\xBF\xBD</V>");
}

}  // namespace
}  // namespace lathe::aws
