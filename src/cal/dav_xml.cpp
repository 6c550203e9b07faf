#include "cal/dav_xml.hpp"

#include <expat.h>

#include <memory>

namespace ruche::cal {
namespace {

// Expat reports qualified names as "<namespace URI><sep><local name>".
constexpr char kNsSeparator = '\x01';
constexpr std::string_view kXmlNs = "http://www.w3.org/XML/1998/namespace";

struct ParseState {
  XML_Parser parser = nullptr;
  const XmlLimits* limits = nullptr;
  std::vector<XmlElement*> stack;
  XmlElement root;
  bool have_root = false;
  size_t elements = 0;
  std::string error;

  void Fail(std::string message) {
    if (error.empty()) {
      error = std::move(message);
    }
    XML_StopParser(parser, XML_FALSE);
  }
};

void SplitName(const char* qualified, std::string& ns, std::string& local) {
  std::string_view q(qualified);
  size_t sep = q.find(kNsSeparator);
  if (sep == std::string_view::npos) {
    ns.clear();
    local = q;
  } else {
    ns = q.substr(0, sep);
    local = q.substr(sep + 1);
  }
}

void OnStart(void* data, const XML_Char* name, const XML_Char** attrs) {
  auto* st = static_cast<ParseState*>(data);
  if (++st->elements > st->limits->max_elements) {
    st->Fail("too many XML elements");
    return;
  }
  if (static_cast<int>(st->stack.size()) >= st->limits->max_depth) {
    st->Fail("XML nested too deeply");
    return;
  }
  XmlElement* e = nullptr;
  if (st->stack.empty()) {
    if (st->have_root) {
      st->Fail("more than one root element");
      return;
    }
    st->have_root = true;
    e = &st->root;
  } else {
    e = &st->stack.back()->children.emplace_back();
  }
  SplitName(name, e->ns, e->name);
  for (size_t i = 0; attrs[i] != nullptr; i += 2) {
    std::string ans;
    std::string alocal;
    SplitName(attrs[i], ans, alocal);
    // A namespaced attribute keeps its namespace in Clark notation: "{uri}local".
    e->attributes.emplace_back(ans.empty() ? std::move(alocal) : "{" + ans + "}" + alocal,
                               attrs[i + 1]);
  }
  st->stack.push_back(e);
}

void OnEnd(void* data, const XML_Char* /*name*/) {
  auto* st = static_cast<ParseState*>(data);
  if (!st->stack.empty()) {
    st->stack.pop_back();
  }
}

void OnText(void* data, const XML_Char* s, int len) {
  auto* st = static_cast<ParseState*>(data);
  if (!st->stack.empty()) {
    st->stack.back()->text.append(s, static_cast<size_t>(len));
  }
}

void OnDoctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
  static_cast<ParseState*>(data)->Fail("DOCTYPE declarations are not accepted");
}

struct ParserFree {
  void operator()(XML_Parser p) const { XML_ParserFree(p); }
};

void AppendFragment(std::string& out, const XmlElement& e) {
  out += '<';
  out += e.name;
  out += " xmlns=\"";
  AppendEscaped(out, e.ns);
  out += '"';
  int prefixes = 0;
  for (const auto& [k, v] : e.attributes) {
    out += ' ';
    if (k.starts_with('{')) {
      size_t close = k.find('}');
      std::string_view uri = std::string_view(k).substr(1, close - 1);
      std::string_view local = std::string_view(k).substr(close + 1);
      if (uri == kXmlNs) {
        out += "xml:";  // the xml prefix is bound already and may not be bound to another
      } else {
        std::string prefix = "a" + std::to_string(prefixes++);
        out += "xmlns:" + prefix + "=\"";
        AppendEscaped(out, uri);
        out += "\" " + prefix + ":";
      }
      out += local;
    } else {
      out += k;
    }
    out += "=\"";
    AppendEscaped(out, v);
    out += '"';
  }
  if (e.children.empty() && e.text.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  AppendEscaped(out, e.text);
  for (const auto& c : e.children) {
    AppendFragment(out, c);
  }
  out += "</";
  out += e.name;
  out += '>';
}

struct KnownNs {
  std::string_view uri;
  std::string_view prefix;
};
constexpr KnownNs kKnown[] = {
    {kDavNs, "d"}, {kCalDavNs, "c"}, {kCalServerNs, "cs"}, {kAppleIcalNs, "a"}};

std::string_view PrefixOf(std::string_view ns) {
  for (const auto& k : kKnown) {
    if (k.uri == ns) {
      return k.prefix;
    }
  }
  return {};
}

}  // namespace

const XmlElement* XmlElement::Child(std::string_view n, std::string_view local) const {
  for (const auto& c : children) {
    if (c.Is(n, local)) {
      return &c;
    }
  }
  return nullptr;
}

std::optional<std::string_view> XmlElement::Attribute(std::string_view local) const {
  for (const auto& [k, v] : attributes) {
    if (k == local) {
      return v;
    }
  }
  return std::nullopt;
}

Result<XmlElement> ParseXml(std::string_view body, const XmlLimits& limits) {
  if (body.size() > limits.max_bytes) {
    return Error::TooLarge("XML body too large");
  }
  std::unique_ptr<XML_ParserStruct, ParserFree> parser(XML_ParserCreateNS("UTF-8", kNsSeparator));
  if (!parser) {
    return Error::Internal("XML parser unavailable");
  }
  ParseState st;
  st.parser = parser.get();
  st.limits = &limits;
  XML_SetUserData(parser.get(), &st);
  XML_SetElementHandler(parser.get(), OnStart, OnEnd);
  XML_SetCharacterDataHandler(parser.get(), OnText);
  XML_SetStartDoctypeDeclHandler(parser.get(), OnDoctype);
  XML_Status status = XML_Parse(parser.get(), body.data(), static_cast<int>(body.size()), XML_TRUE);
  if (!st.error.empty()) {
    return Error::BadRequest("invalid XML body: " + st.error, "M_NOT_XML");
  }
  if (status != XML_STATUS_OK) {
    return Error::BadRequest(
        std::string("invalid XML body: ") + XML_ErrorString(XML_GetErrorCode(parser.get())),
        "M_NOT_XML");
  }
  if (!st.have_root) {
    return Error::BadRequest("invalid XML body: no element", "M_NOT_XML");
  }
  return std::move(st.root);
}

std::string SerializeFragment(const XmlElement& e) {
  std::string out;
  AppendFragment(out, e);
  return out;
}

void AppendEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\r':
        out += "&#13;";  // kept through XML's line-end normalisation (iCalendar uses CRLF)
        break;
      default:
        out += c;
    }
  }
}

XmlWriter::XmlWriter(bool declaration) {
  if (declaration) {
    out_ = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
  }
  start_size_ = out_.size();
}

void XmlWriter::StartTag(std::string_view ns, std::string_view name) {
  std::string_view prefix = PrefixOf(ns);
  out_ += '<';
  std::string close = "</";
  if (!prefix.empty()) {
    out_ += prefix;
    out_ += ':';
    close += prefix;
    close += ':';
  }
  out_ += name;
  close += name;
  close += '>';
  if (prefix.empty()) {
    out_ += " xmlns=\"";
    AppendEscaped(out_, ns);
    out_ += '"';
  }
  open_.push_back(std::move(close));
}

XmlWriter& XmlWriter::Root(std::string_view ns, std::string_view name) {
  StartTag(ns, name);
  for (const auto& k : kKnown) {
    out_ += " xmlns:";
    out_ += k.prefix;
    out_ += "=\"";
    out_ += k.uri;
    out_ += '"';
  }
  out_ += '>';
  return *this;
}

XmlWriter& XmlWriter::Open(std::string_view ns, std::string_view name) {
  StartTag(ns, name);
  out_ += '>';
  return *this;
}

XmlWriter& XmlWriter::Close() {
  out_ += open_.back();
  open_.pop_back();
  return *this;
}

XmlWriter& XmlWriter::Empty(std::string_view ns, std::string_view name) {
  StartTag(ns, name);
  open_.pop_back();
  out_ += "/>";
  return *this;
}

XmlWriter& XmlWriter::EmptyWithAttribute(std::string_view ns, std::string_view name,
                                         std::string_view attr, std::string_view value) {
  StartTag(ns, name);
  open_.pop_back();
  out_ += ' ';
  out_ += attr;
  out_ += "=\"";
  AppendEscaped(out_, value);
  out_ += "\"/>";
  return *this;
}

XmlWriter& XmlWriter::Element(std::string_view ns, std::string_view name, std::string_view text) {
  Open(ns, name);
  AppendEscaped(out_, text);
  return Close();
}

XmlWriter& XmlWriter::Text(std::string_view text) {
  AppendEscaped(out_, text);
  return *this;
}

XmlWriter& XmlWriter::Raw(std::string_view xml) {
  out_ += xml;
  return *this;
}

std::string XmlWriter::Finish() {
  while (!open_.empty()) {
    Close();
  }
  return std::move(out_);
}

}  // namespace ruche::cal
