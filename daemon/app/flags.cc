#include "daemon/app/flags.h"

#include <array>

namespace vigil::app {
namespace {

struct FlagSpec {
  std::string_view name;
  std::string Flags::*field;
  std::string_view help;
};

const std::array<FlagSpec, 6> kFlagSpecs{{
    {"config.file", &Flags::config_file, "Vigil configuration file path."},
    {"web.listen-address", &Flags::listen_address,
     "Address to listen on for the web interface and /metrics."},
    {"log.level", &Flags::log_level, "Only log messages with the given severity or above: "
                                     "debug, info, warn, error."},
    {"log.format", &Flags::log_format, "Output format of log messages: logfmt or json."},
    {"storage.state-dir", &Flags::state_dir, "Directory where alert state is persisted."},
    {"promql.semantics", &Flags::promql_semantics,
     "PromQL semantics: v3 (Prometheus 3.x, default) or v2 (Prometheus 2.x)."},
}};

}  // namespace

util::Result<CommandLine> ParseCommandLine(const std::vector<std::string>& argv) {
  CommandLine out;
  std::vector<std::string> positional;
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--version") {
      out.command = Command::kVersion;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      out.command = Command::kHelp;
      continue;
    }
    if (!arg.starts_with("--")) {
      positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const FlagSpec* spec = nullptr;
    for (const auto& candidate : kFlagSpecs) {
      if (candidate.name == name) spec = &candidate;
    }
    if (spec == nullptr) return util::Fail("unknown flag --{}", name);
    if (!has_value) {
      if (i + 1 >= argv.size()) return util::Fail("flag --{} needs a value", name);
      value = argv[++i];
    }
    out.flags.*(spec->field) = value;
  }
  if (out.flags.promql_semantics != "v3" && out.flags.promql_semantics != "v2") {
    return util::Fail("--promql.semantics must be v3 or v2, not \"{}\"",
                      out.flags.promql_semantics);
  }
  if (out.command != Command::kRun || positional.empty()) {
    out.args = std::move(positional);
    return out;
  }
  if (positional.size() >= 2 && positional[0] == "check" && positional[1] == "config") {
    out.command = Command::kCheckConfig;
    out.args.assign(positional.begin() + 2, positional.end());
    if (out.args.empty()) return util::Fail("check config needs at least one FILE");
    return out;
  }
  if (positional.size() >= 2 && positional[0] == "test" && positional[1] == "promql") {
    out.command = Command::kTestPromql;
    out.args.assign(positional.begin() + 2, positional.end());
    if (out.args.empty()) return util::Fail("test promql needs at least one FILE");
    return out;
  }
  std::string joined;
  for (const auto& p : positional) joined += (joined.empty() ? "" : " ") + p;
  return util::Fail("unknown command \"{}\" (see --help)", joined);
}

std::string Usage() {
  std::string out =
      "usage: vigil [flags]\n"
      "       vigil check config FILE...\n"
      "       vigil test promql [--promql.semantics=v2] FILE...   (Prometheus .test files)\n"
      "       vigil --version\n\n"
      "Vigil probes services, evaluates Prometheus alerting rules and notifies Alertmanager.\n\n"
      "Flags:\n";
  for (const auto& spec : kFlagSpecs) {
    out += "  --" + std::string(spec.name) + "=VALUE\n      " + std::string(spec.help) +
           " (default \"" + Flags{}.*(spec.field) + "\")\n";
  }
  return out;
}

}  // namespace vigil::app
