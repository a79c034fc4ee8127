#pragma once
/// A small XML 1.0 well-formedness checker for the tests (no DTDs, no CDATA, no namespaces checked):
/// one root element, matching tags, quoted attributes without '<', only the five predefined
/// entities and character references, no "--" inside comments.
#include <map>
#include <string>
#include <vector>

namespace normcheck::report::testing {

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attributes;  ///< values with references decoded
  int parent = -1;                                ///< index into XmlDocument::elements
  std::string text;                               ///< the decoded character data directly inside
};

struct XmlDocument {
  std::string error;  ///< empty when well-formed
  std::vector<XmlElement> elements;  ///< in document order

  bool ok() const { return error.empty(); }
  /// The elements named name whose ancestors include element ancestor (-1: anywhere).
  int count(const std::string& name, int ancestor = -1) const;
  std::vector<int> indices(const std::string& name) const;
};

XmlDocument parse_xml(const std::string& text);

}  // namespace normcheck::report::testing
