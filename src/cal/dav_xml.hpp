#pragma once
// WebDAV/CalDAV XML: a bounded, namespace-aware parser of request bodies (expat) into a small
// element tree, and a writer for multistatus answers.
//
// Request bodies are hostile input: a DOCTYPE (and so every entity, external or not) is refused,
// and depth, element count and size are bounded, so neither "billion laughs" nor deep nesting can
// cost more than the body's own size.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace ruche::cal {

inline constexpr std::string_view kDavNs = "DAV:";
inline constexpr std::string_view kCalDavNs = "urn:ietf:params:xml:ns:caldav";
inline constexpr std::string_view kCalServerNs = "http://calendarserver.org/ns/";
inline constexpr std::string_view kAppleIcalNs = "http://apple.com/ns/ical/";

struct XmlElement {
  std::string ns;    // namespace URI ("" for none)
  std::string name;  // local name
  std::string text;  // character data directly inside this element
  // name -> value; a namespaced attribute's name is "{uri}local" (Clark notation).
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<XmlElement> children;

  bool Is(std::string_view n, std::string_view local) const { return ns == n && name == local; }
  // The first child with that name, or nullptr.
  const XmlElement* Child(std::string_view n, std::string_view local) const;
  std::optional<std::string_view> Attribute(std::string_view local) const;
};

struct XmlLimits {
  size_t max_bytes = 1 << 20;
  int max_depth = 32;
  size_t max_elements = 20'000;
};

// Parses a request body. Errors are 400 with a message saying what was wrong.
Result<XmlElement> ParseXml(std::string_view body, const XmlLimits& limits = {});

// Serialises `e` (and its subtree) as a self-contained fragment: every element declares its own
// default namespace, so the fragment can be stored and later placed in any document.
std::string SerializeFragment(const XmlElement& e);

// Writes an XML document. Known namespaces get fixed prefixes declared once on the root element;
// any other namespace is declared where it is used.
class XmlWriter {
 public:
  // `declaration`: start with <?xml …?>; false for a piece placed into another writer's output.
  explicit XmlWriter(bool declaration = true);
  // The root element, with the prefix declarations.
  XmlWriter& Root(std::string_view ns, std::string_view name);
  XmlWriter& Open(std::string_view ns, std::string_view name);
  XmlWriter& Close();
  XmlWriter& Empty(std::string_view ns, std::string_view name);
  // <name attr="value"/>, the value escaped.
  XmlWriter& EmptyWithAttribute(std::string_view ns, std::string_view name, std::string_view attr,
                                std::string_view value);
  // <name>text</name>, the text escaped.
  XmlWriter& Element(std::string_view ns, std::string_view name, std::string_view text);
  XmlWriter& Text(std::string_view text);
  // A fragment produced by SerializeFragment (trusted: written by this server).
  XmlWriter& Raw(std::string_view xml);
  std::string Finish();
  bool empty_body() const { return out_.size() == start_size_; }

 private:
  void StartTag(std::string_view ns, std::string_view name);
  std::string out_;
  size_t start_size_ = 0;
  std::vector<std::string> open_;  // closing tags
};

// Escapes text for element content and attribute values.
void AppendEscaped(std::string& out, std::string_view text);

}  // namespace ruche::cal
