#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::tmpl::detail {

struct Value;
using StringMap = std::map<std::string, std::string>;
using AnyMap = std::map<std::string, Value>;

// One query result element, Prometheus's `*template.sample`.
struct SampleValue {
  std::shared_ptr<const StringMap> labels = std::make_shared<const StringMap>();
  double value = 0;
};
using SamplePtr = std::shared_ptr<const SampleValue>;
using Vector = std::vector<SamplePtr>;

// The root data of alert templates: Prometheus's anonymous struct with
// Labels, ExternalLabels, ExternalURL and Value.
struct AlertDataValue {
  std::shared_ptr<const StringMap> labels = std::make_shared<const StringMap>();
  std::shared_ptr<const StringMap> external_labels = std::make_shared<const StringMap>();
  std::string external_url;
  double value = 0;
  // Prometheus 2.x declares the field `Value float64`, 3.x `Value interface {}`
  // (printf "%T" shows it).
  bool value_is_float64 = false;
};

// Value is a dynamically typed template value standing in for the Go values a
// text/template sees (reflect.Value): nothing (an invalid value, printed
// "<no value>"), bool, int, float64, string, map[string]string (labels),
// map[string]interface{} (`args`), *sample, queryResult, the alert data struct
// and a time.Time (`toTime`). A value type; immutable payloads are shared.
struct Value {
  enum class Kind {
    kInvalid,
    kBool,
    kInt,
    kFloat,
    kString,
    kStringMap,
    kAnyMap,
    kSample,
    kVector,
    kAlertData,
    kTime
  };
  Kind kind = Kind::kInvalid;
  bool b = false;
  int64_t i = 0;  // kInt; kTime: milliseconds since the epoch
  double f = 0;
  std::string s;
  std::shared_ptr<const StringMap> string_map;
  std::shared_ptr<const AnyMap> any_map;
  SamplePtr sample;  // may be null: a nil *sample
  std::shared_ptr<const Vector> vector;
  std::shared_ptr<const AlertDataValue> data;

  static Value Bool(bool v) {
    Value r;
    r.kind = Kind::kBool;
    r.b = v;
    return r;
  }
  static Value Int(int64_t v) {
    Value r;
    r.kind = Kind::kInt;
    r.i = v;
    return r;
  }
  static Value Float(double v) {
    Value r;
    r.kind = Kind::kFloat;
    r.f = v;
    return r;
  }
  static Value String(std::string v) {
    Value r;
    r.kind = Kind::kString;
    r.s = std::move(v);
    return r;
  }
  static Value Map(StringMap m) { return MapOf(std::make_shared<const StringMap>(std::move(m))); }
  static Value MapOf(std::shared_ptr<const StringMap> m) {
    Value r;
    r.kind = Kind::kStringMap;
    r.string_map = std::move(m);
    return r;
  }
  static Value Sample(SamplePtr p) {
    Value r;
    r.kind = Kind::kSample;
    r.sample = std::move(p);
    return r;
  }
  static Value VectorOf(Vector v) {
    Value r;
    r.kind = Kind::kVector;
    r.vector = std::make_shared<const Vector>(std::move(v));
    return r;
  }
  static Value Time(int64_t millis) {
    Value r;
    r.kind = Kind::kTime;
    r.i = millis;
    return r;
  }

  bool valid() const { return kind != Kind::kInvalid; }
};

// Go's name for the value's type as %T and error messages print it.
std::string TypeName(const Value& v);

// Go's truth rule for if/with/and/or/not. Every kind here has one.
bool IsTrue(const Value& v);

// Go's strconv.FormatFloat(v, fmt, prec, 64) for fmt in e, E, f, g, G, x, X; prec -1
// means the shortest representation that round-trips.
std::string FormatFloat(double v, char fmt, int prec);

// Go's strconv.Quote.
std::string Quote(std::string_view s);

// Go's time.Time.String() of a UTC instant given in milliseconds.
std::string FormatTime(int64_t millis);

// fmt.Sprint, fmt.Sprintln and fmt.Sprintf with Go's rules for the kinds above.
std::string Sprint(const std::vector<Value>& args);
std::string Sprintln(const std::vector<Value>& args);
std::string Sprintf(std::string_view format, const std::vector<Value>& args);

}  // namespace vigil::tmpl::detail
