#include "daemon/template/detail/exec.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace vigil::tmpl::detail {
namespace {

using K = Value::Kind;

struct ExecError {
  std::string message;
};
struct BreakSignal {};
struct ContinueSignal {};

using Args = std::vector<const Node*>;

// Go's exec state: the walk over one template's tree.
class State {
 public:
  State(const TreeSet& trees, std::string parse_name, const FuncContext& ctx)
      : trees_(trees), parse_name_(std::move(parse_name)), name_(parse_name_), ctx_(ctx) {}

  std::string Run(const Node& root, const Value& dot) {
    vars_.emplace_back("$", dot);
    Walk(dot, root);
    return std::move(out_);
  }

 private:
  void At(const Node* n) { node_ = n; }

  [[noreturn]] void Errorf(const std::string& msg) {
    if (node_ == nullptr) throw ExecError{fmt::format("template: {}: {}", name_, msg)};
    auto pos = static_cast<size_t>(node_->pos);
    std::string_view text = std::string_view(trees_.text).substr(0, pos);
    size_t nl = text.rfind('\n');
    size_t col = nl == std::string_view::npos ? pos : pos - (nl + 1);
    size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    std::string context = node_->String();
    throw ExecError{fmt::format("template: {}:{}:{}: executing {} at <{}>: {}", parse_name_, line,
                                col, Quote(name_), context, msg)};
  }

  // ------------------------------------------------------------ walk --

  void Walk(const Value& dot, const Node& node) {
    At(&node);
    switch (node.type) {
      case NodeType::kAction: {
        Value val = EvalPipeline(dot, *node.pipe);
        if (node.pipe->decl.empty()) PrintValue(node, val);
        return;
      }
      case NodeType::kBreak:
        throw BreakSignal{};
      case NodeType::kContinue:
        throw ContinueSignal{};
      case NodeType::kIf:
      case NodeType::kWith:
        WalkIfOrWith(dot, node);
        return;
      case NodeType::kList:
        for (const auto& n : node.nodes) Walk(dot, *n);
        return;
      case NodeType::kRange:
        WalkRange(dot, node);
        return;
      case NodeType::kTemplate:
        WalkTemplate(dot, node);
        return;
      case NodeType::kText:
        out_ += node.text;
        return;
      default:
        Errorf("unknown node: " + node.String());
    }
  }

  void WalkIfOrWith(const Value& dot, const Node& node) {
    size_t mark = vars_.size();
    Value val = EvalPipeline(dot, *node.pipe);
    if (IsTrue(val)) {
      Walk(node.type == NodeType::kWith ? val : dot, *node.list);
    } else if (node.else_list) {
      Walk(dot, *node.else_list);
    }
    vars_.resize(mark);
  }

  void SetTopVar(size_t n, const Value& v) { vars_[vars_.size() - n].second = v; }

  void WalkRange(const Value& dot, const Node& r) {
    At(&r);
    size_t outer = vars_.size();
    Value val = EvalPipeline(dot, *r.pipe);
    size_t mark = vars_.size();
    const auto& decl = r.pipe->decl;
    auto one = [&](const Value& index, const Value& elem) {
      if (!decl.empty()) {
        if (r.pipe->is_assign) {
          SetVar(decl[0]->idents[0], decl.size() > 1 ? index : elem);
        } else {
          SetTopVar(1, elem);
        }
      }
      if (decl.size() > 1) {
        if (r.pipe->is_assign) {
          SetVar(decl[1]->idents[0], elem);
        } else {
          SetTopVar(2, index);
        }
      }
      try {
        Walk(elem, *r.list);
      } catch (const ContinueSignal&) {
      }
      vars_.resize(mark);
    };
    bool ran = false;
    try {
      switch (val.kind) {
        case K::kVector:
          for (size_t i = 0; i < val.vector->size(); ++i) {
            ran = true;
            one(Value::Int(static_cast<int64_t>(i)), Value::Sample((*val.vector)[i]));
          }
          break;
        case K::kStringMap:
          for (const auto& [k, v] : *val.string_map) {
            ran = true;
            one(Value::String(k), Value::String(v));
          }
          break;
        case K::kAnyMap:
          for (const auto& [k, v] : *val.any_map) {
            ran = true;
            one(Value::String(k), v);
          }
          break;
        case K::kInt:
          // Ranging over an integer came with Go 1.22 (Prometheus 3.x).
          if (ctx_.dialect == Dialect::kPrometheus2)
            Errorf("range can't iterate over " + Printable(val));
          if (decl.size() > 1)
            Errorf(fmt::format("can't use {} to iterate over more than one variable", val.i));
          for (int64_t i = 0; i < val.i; ++i) {
            ran = true;
            one(Value::Int(i), Value::Int(i));
          }
          break;
        case K::kInvalid:
          break;
        default:
          Errorf("range can't iterate over " + Printable(val));
      }
    } catch (const BreakSignal&) {
      ran = true;
    }
    vars_.resize(mark);
    if (!ran && r.else_list) Walk(dot, *r.else_list);
    vars_.resize(outer);
  }

  void WalkTemplate(const Value& dot, const Node& t) {
    At(&t);
    auto it = trees_.trees.find(t.text);
    if (it == trees_.trees.end()) Errorf(fmt::format("template {} not defined", Quote(t.text)));
    if (depth_ >= kMaxExecDepth)
      Errorf(fmt::format("exceeded maximum template depth ({})", kMaxExecDepth));
    Value new_dot = t.pipe ? EvalPipeline(dot, *t.pipe) : Value();
    auto saved_vars = std::move(vars_);
    std::string saved_name = std::move(name_);
    vars_ = {{"$", new_dot}};
    name_ = t.text;
    ++depth_;
    Walk(new_dot, *it->second);
    --depth_;
    name_ = std::move(saved_name);
    vars_ = std::move(saved_vars);
  }

  // Go's printableValue + fmt.Fprint: pointers print what they point to.
  static std::string Printable(const Value& v) {
    if (!v.valid()) return "<no value>";
    std::string s = Sprint({v});
    if (v.kind == K::kSample && v.sample) s.erase(0, 1);
    return s;
  }

  void PrintValue(const Node& n, const Value& v) {
    At(&n);
    out_ += Printable(v);
  }

  // ------------------------------------------------------- variables --

  const Value& VarValue(const std::string& name) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].first == name) return vars_[i].second;
    }
    Errorf("undefined variable: " + name);
  }

  void SetVar(const std::string& name, const Value& v) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].first == name) {
        vars_[i].second = v;
        return;
      }
    }
    Errorf("undefined variable: " + name);
  }

  // ------------------------------------------------------ evaluation --

  Value EvalPipeline(const Value& dot, const Node& pipe) {
    At(&pipe);
    Value value;
    const Value* final = nullptr;
    for (const auto& cmd : pipe.nodes) {
      value = EvalCommand(dot, *cmd, final);
      final = &value;
    }
    for (const auto& var : pipe.decl) {
      if (pipe.is_assign) {
        SetVar(var->idents[0], value);
      } else {
        vars_.emplace_back(var->idents[0], value);
      }
    }
    return value;
  }

  static Args ArgsOf(const Node& cmd) {
    Args a;
    for (const auto& n : cmd.nodes) a.push_back(n.get());
    return a;
  }

  Value EvalCommand(const Value& dot, const Node& cmd, const Value* final) {
    const Node& first = *cmd.nodes[0];
    switch (first.type) {
      case NodeType::kField:
        return EvalFieldNode(dot, first, ArgsOf(cmd), final);
      case NodeType::kChain:
        return EvalChainNode(dot, first, ArgsOf(cmd), final);
      case NodeType::kIdentifier:
        return EvalFunction(dot, first, cmd, ArgsOf(cmd), final);
      case NodeType::kPipe:
        NotAFunction(cmd, final);
        return EvalPipeline(dot, first);
      case NodeType::kVariable:
        return EvalVariableNode(dot, first, ArgsOf(cmd), final);
      default:
        break;
    }
    At(&first);
    NotAFunction(cmd, final);
    switch (first.type) {
      case NodeType::kBool:
        return Value::Bool(first.bool_value);
      case NodeType::kDot:
        return dot;
      case NodeType::kNil:
        Errorf("nil is not a command");
      case NodeType::kNumber:
        return IdealConstant(first);
      case NodeType::kString:
        return Value::String(first.str);
      default:
        Errorf(fmt::format("can't evaluate command {}", Quote(first.String())));
    }
  }

  void NotAFunction(const Node& cmd, const Value* final) {
    if (cmd.nodes.size() > 1 || final != nullptr) {
      Errorf("can't give argument to non-function " + cmd.nodes[0]->String());
    }
  }
  void NotAFunction(const Args& args, const Value* final) {
    if (args.size() > 1 || final != nullptr)
      Errorf("can't give argument to non-function " + args[0]->String());
  }

  Value IdealConstant(const Node& c) {
    At(&c);
    const std::string& t = c.text;
    bool hex_int = t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') &&
                   t.find_first_of("pP") == std::string::npos;
    bool rune_int = !t.empty() && t[0] == '\'';
    if (c.is_float && !hex_int && !rune_int && t.find_first_of(".eEpP") != std::string::npos) {
      return Value::Float(c.float_value);
    }
    if (c.is_int) return Value::Int(c.int_value);
    Errorf(t + " overflows int");
  }

  Value EvalFieldNode(const Value& dot, const Node& field, const Args& args, const Value* final) {
    At(&field);
    return EvalFieldChain(dot, dot, field, field.idents, 0, args, final);
  }

  Value EvalChainNode(const Value& dot, const Node& chain, const Args& args, const Value* final) {
    At(&chain);
    if (chain.base->type == NodeType::kNil)
      Errorf("indirection through explicit nil in " + chain.String());
    Value pipe = EvalArg(dot, ParamType::kAny, *chain.base);
    return EvalFieldChain(dot, pipe, chain, chain.idents, 0, args, final);
  }

  Value EvalVariableNode(const Value& dot, const Node& var, const Args& args, const Value* final) {
    At(&var);
    Value value = VarValue(var.idents[0]);
    if (var.idents.size() == 1) {
      NotAFunction(args, final);
      return value;
    }
    return EvalFieldChain(dot, value, var, var.idents, 1, args, final);
  }

  // Go's evalFieldChain over idents[from:].
  Value EvalFieldChain(const Value& dot, Value receiver, const Node& node,
                       const std::vector<std::string>& idents, size_t from, const Args& args,
                       const Value* final) {
    size_t n = idents.size();
    bool iface = false;
    for (size_t i = from; i + 1 < n; ++i)
      receiver = EvalField(dot, node, idents[i], {}, nullptr, receiver, iface);
    return EvalField(dot, node, idents[n - 1], args, final, receiver, iface);
  }

  // Go's evalField. `iface` says the receiver came out of an interface {}
  // field or element (Go then names that type in errors); it is updated for
  // the result.
  Value EvalField(const Value& dot, const Node& node, const std::string& name, const Args& args,
                  const Value* final, const Value& receiver, bool& iface) {
    bool receiver_iface = iface;
    iface = false;
    if (!receiver.valid()) return Value();
    if (receiver.kind == K::kTime) {
      if (const FuncDef* method = LookupTimeMethod(name))
        return EvalCall(dot, *method, node, args, final, &receiver);
    }
    bool has_args = args.size() > 1 || final != nullptr;
    switch (receiver.kind) {
      case K::kAlertData: {
        const AlertDataValue& d = *receiver.data;
        Value v;
        if (name == "Labels") {
          v = Value::MapOf(d.labels);
        } else if (name == "ExternalLabels") {
          v = Value::MapOf(d.external_labels);
        } else if (name == "ExternalURL") {
          v = Value::String(d.external_url);
        } else if (name == "Value") {
          v = Value::Float(d.value);
          iface = true;
        } else {
          break;
        }
        if (has_args) Errorf(name + " has arguments but cannot be invoked as function");
        return v;
      }
      case K::kSample: {
        if (name != "Labels" && name != "Value") break;
        if (!receiver.sample) Errorf("nil pointer evaluating *template.sample." + name);
        if (has_args) Errorf(name + " has arguments but cannot be invoked as function");
        if (name == "Labels") return Value::MapOf(receiver.sample->labels);
        iface = true;
        return Value::Float(receiver.sample->value);
      }
      case K::kStringMap: {
        if (has_args) Errorf(name + " is not a method but has arguments");
        auto it = receiver.string_map->find(name);
        return Value::String(it == receiver.string_map->end() ? "" : it->second);
      }
      case K::kAnyMap: {
        if (has_args) Errorf(name + " is not a method but has arguments");
        auto it = receiver.any_map->find(name);
        iface = true;
        return it == receiver.any_map->end() ? Value() : it->second;
      }
      default:
        break;
    }
    Errorf("can't evaluate field " + name + " in type " +
           (receiver_iface ? "interface {}" : TypeName(receiver)));
  }

  Value EvalFunction(const Value& dot, const Node& ident, const Node& cmd, const Args& args,
                     const Value* final) {
    At(&ident);
    const FuncDef* fn = LookupFunc(ident.text);
    if (fn == nullptr) Errorf(fmt::format("{} is not a defined function", Quote(ident.text)));
    return EvalCall(dot, *fn, cmd, args, final);
  }

  // Go's evalCall; `receiver` is set for a method call.
  Value EvalCall(const Value& dot, const FuncDef& fn, const Node& node, const Args& all_args,
                 const Value* final, const Value* receiver = nullptr) {
    Args args;
    if (!all_args.empty()) args.assign(all_args.begin() + 1, all_args.end());
    size_t num_in = args.size() + (final ? 1 : 0);
    size_t num_fixed = args.size();
    const auto& params = fn.params;
    if (fn.variadic) {
      num_fixed = params.size() - 1;
      if (num_in < num_fixed) {
        Errorf(fmt::format("wrong number of args for {}: want at least {} got {}", fn.name,
                           params.size() - 1, args.size()));
      }
    } else if (num_in != params.size()) {
      Errorf(fmt::format("wrong number of args for {}: want {} got {}", fn.name, params.size(),
                         num_in));
    }
    if (fn.impl == nullptr) {  // and, or
      bool is_or = fn.name == "or";
      Value v;
      for (const Node* arg : args) {
        v = EvalArg(dot, ParamType::kReflect, *arg);
        if (IsTrue(v) == is_or) return v;
      }
      if (final) v = ValidateType(*final, ParamType::kReflect);
      return v;
    }
    std::vector<Value> argv;
    argv.reserve(num_in + 1);
    if (receiver) argv.push_back(*receiver);
    size_t i = 0;
    for (; i < num_fixed && i < args.size(); ++i) argv.push_back(EvalArg(dot, params[i], *args[i]));
    if (fn.variadic) {
      for (; i < args.size(); ++i) argv.push_back(EvalArg(dot, params.back(), *args[i]));
    }
    if (final) {
      ParamType t = params.back();
      if (fn.variadic && num_in - 1 < num_fixed) t = params[num_in - 1];
      argv.push_back(ValidateType(*final, t));
    }
    auto result = fn.impl(ctx_, argv);
    if (!result) {
      At(&node);
      Errorf(fmt::format("error calling {}: {}", fn.name, result.error().message));
    }
    return std::move(*result);
  }

  Value ValidateType(const Value& value, ParamType type) {
    if (!value.valid()) {
      switch (type) {
        case ParamType::kAny:
          return value;
        case ParamType::kSample:
          return Value::Sample(nullptr);
        case ParamType::kVector:
          return Value::VectorOf({});
        default:
          Errorf(fmt::format("invalid value; expected {}", ParamTypeName(type)));
      }
    }
    bool ok = true;
    switch (type) {
      case ParamType::kAny:
      case ParamType::kReflect:
        break;
      case ParamType::kString:
        ok = value.kind == K::kString;
        break;
      case ParamType::kFloat:
        ok = value.kind == K::kFloat;
        break;
      case ParamType::kSample:
        ok = value.kind == K::kSample;
        break;
      case ParamType::kVector:
        ok = value.kind == K::kVector;
        break;
    }
    if (!ok) {
      Errorf(fmt::format("wrong type for value; expected {}; got {}", ParamTypeName(type),
                         TypeName(value)));
    }
    return value;
  }

  Value EvalArg(const Value& dot, ParamType type, const Node& n) {
    At(&n);
    switch (n.type) {
      case NodeType::kDot:
        return ValidateType(dot, type);
      case NodeType::kNil:
        // Go passes nil to a reflect.Value parameter (the builtins) as the
        // invalid value: {{ index nil 1 }} fails with "index of untyped nil".
        if (type == ParamType::kAny || type == ParamType::kReflect) return Value();
        if (type == ParamType::kSample) return Value::Sample(nullptr);
        if (type == ParamType::kVector) return Value::VectorOf({});
        Errorf(fmt::format("cannot assign nil to {}", ParamTypeName(type)));
      case NodeType::kField:
        if (type == ParamType::kReflect) return EvalFieldNode(dot, n, {&n}, nullptr);
        return ValidateType(EvalFieldNode(dot, n, {&n}, nullptr), type);
      case NodeType::kVariable:
        return ValidateType(EvalVariableNode(dot, n, {}, nullptr), type);
      case NodeType::kPipe:
        return ValidateType(EvalPipeline(dot, n), type);
      case NodeType::kIdentifier:
        return ValidateType(EvalFunction(dot, n, n, {}, nullptr), type);
      case NodeType::kChain:
        return ValidateType(EvalChainNode(dot, n, {}, nullptr), type);
      default:
        break;
    }
    switch (type) {
      case ParamType::kFloat:
        if (n.type == NodeType::kNumber && n.is_float) return Value::Float(n.float_value);
        Errorf("expected float; found " + n.String());
      case ParamType::kString:
        if (n.type == NodeType::kString) return Value::String(n.str);
        Errorf("expected string; found " + n.String());
      case ParamType::kAny:
      case ParamType::kReflect:
        return EvalEmptyInterface(n);
      default:
        Errorf(fmt::format("can't handle {} for arg of type {}", n.String(), ParamTypeName(type)));
    }
  }

  // Go's evalEmptyInterface for the constants (evalArg handled the rest).
  Value EvalEmptyInterface(const Node& n) {
    At(&n);
    switch (n.type) {
      case NodeType::kBool:
        return Value::Bool(n.bool_value);
      case NodeType::kNumber:
        return IdealConstant(n);
      case NodeType::kString:
        return Value::String(n.str);
      default:
        Errorf(
            fmt::format("can't handle assignment of {} to empty interface argument", n.String()));
    }
  }

  const TreeSet& trees_;
  std::string parse_name_;
  std::string name_;
  const FuncContext& ctx_;
  const Node* node_ = nullptr;
  std::vector<std::pair<std::string, Value>> vars_;
  std::string out_;
  int depth_ = 0;
};

}  // namespace

util::Result<std::string> Execute(const TreeSet& trees, const std::string& name, const Value& dot,
                                  const FuncContext& ctx) {
  auto it = trees.trees.find(name);
  if (it == trees.trees.end()) {
    return util::Fail("template: {}: {} is an incomplete or empty template", name, Quote(name));
  }
  State state(trees, name, ctx);
  try {
    return state.Run(*it->second, dot);
  } catch (const ExecError& e) {
    return util::Fail("{}", e.message);
  }
}

}  // namespace vigil::tmpl::detail
