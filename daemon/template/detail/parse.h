#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/template/template.h"
#include "daemon/util/result.h"

namespace vigil::tmpl::detail {

// The node kinds of Go's text/template/parse, with the same meaning.
enum class NodeType {
  kText,
  kAction,
  kBool,
  kBreak,
  kChain,
  kCommand,
  kContinue,
  kDot,
  kField,
  kIdentifier,
  kIf,
  kList,
  kNil,
  kNumber,
  kPipe,
  kRange,
  kString,
  kTemplate,
  kVariable,
  kWith,
  kElse,  // parser-internal
  kEnd,   // parser-internal
};

// Node is one node of a parsed template. Which members are used depends on
// the type (see the comments); positions are byte offsets into the source, as
// Go's parse.Pos. Immutable after parsing.
struct Node {
  NodeType type = NodeType::kText;
  int64_t pos = 0;
  std::string text;  // kText text; kIdentifier name; kString/kNumber source; kTemplate name
  std::string str;   // kString: unquoted value
  std::vector<std::string> idents;  // kField / kVariable / kChain: identifiers
  bool bool_value = false;          // kBool
  // kNumber: what the constant can be, as Go's NumberNode.
  bool is_int = false, is_float = false;
  int64_t int_value = 0;
  double float_value = 0;
  bool is_assign = false;                    // kPipe: `=` rather than `:=`
  std::vector<std::unique_ptr<Node>> decl;   // kPipe: declared variables
  std::vector<std::unique_ptr<Node>> nodes;  // kList items; kCommand args; kPipe commands
  std::unique_ptr<Node> pipe;                // kAction/kIf/kRange/kWith/kTemplate
  std::unique_ptr<Node> list, else_list;     // kIf/kRange/kWith
  std::unique_ptr<Node> base;                // kChain: the term the fields apply to

  // Go's Node.String(): the node as template source.
  std::string String() const;
};

// A parsed template and every template it defines ({{define}}), by name.
// Each tree's root is a kList node.
struct TreeSet {
  std::string text;  // the source, for error positions
  std::map<std::string, std::unique_ptr<Node>, std::less<>> trees;
};

// How deeply control structures and parenthesized pipelines may nest. Go
// limits only parentheses (to 10000); a C++ stack needs a bound on both, and
// real templates nest a handful of levels.
inline constexpr int kMaxParseDepth = 100;

// Parses `text` as Go's text/template does with the given function names
// defined. Errors read as Go's ("template: <name>:<line>: <message>"); deeper
// nesting than kMaxParseDepth fails with "max expression depth exceeded".
// Under kPrometheus2 the syntax is Go 1.19's (Prometheus 2.42): no
// `{{else with}}` ("unexpected <with> in else").
util::Result<std::shared_ptr<const TreeSet>> Parse(std::string_view name, std::string_view text,
                                                   bool (*has_function)(std::string_view),
                                                   Dialect dialect = Dialect::kPrometheus3);

}  // namespace vigil::tmpl::detail
