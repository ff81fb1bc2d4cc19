#include "daemon/app/flags.h"

#include <array>
#include <tuple>

#include "daemon/util/duration.h"

namespace vigil::app {
namespace {

struct FlagSpec {
  std::string_view name;
  std::string Flags::*field;
  std::string_view help;
};

const std::array<FlagSpec, 10> kFlagSpecs{{
    {"config.file", &Flags::config_file, "Vigil configuration file path."},
    {"web.listen-address", &Flags::listen_address,
     "Address to listen on for the web interface and /metrics."},
    {"log.level", &Flags::log_level, "Only log messages with the given severity or above: "
                                     "debug, info, warn, error."},
    {"log.format", &Flags::log_format, "Output format of log messages: logfmt or json."},
    {"storage.state-dir", &Flags::state_dir, "Directory where alert state is persisted."},
    {"promql.semantics", &Flags::promql_semantics,
     "PromQL semantics: v3 (Prometheus 3.x, default) or v2 (Prometheus 2.x)."},
    {"web.external-url", &Flags::external_url,
     "The URL under which vigil is reached, used in alert generator URLs."},
    {"rules.alert.resend-delay", &Flags::resend_delay,
     "Minimum amount of time to wait before resending an alert to Alertmanager."},
    {"rules.alert.for-outage-tolerance", &Flags::for_outage_tolerance,
     "Max time to tolerate vigil outage for restoring \"for\" state of alert."},
    {"rules.alert.for-grace-period", &Flags::for_grace_period,
     "Minimum duration between alert and restored \"for\" state."},
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
  for (auto field : {&Flags::resend_delay, &Flags::for_outage_tolerance, &Flags::for_grace_period}) {
    if (auto d = util::ParseDuration(out.flags.*field); !d) return tl::unexpected(d.error());
  }
  if (out.command != Command::kRun || positional.empty()) {
    out.args = std::move(positional);
    return out;
  }
  static const std::array<std::tuple<std::string_view, std::string_view, Command>, 4> kCommands{{
      {"check", "config", Command::kCheckConfig},
      {"check", "rules", Command::kCheckRules},
      {"test", "promql", Command::kTestPromql},
      {"test", "rules", Command::kTestRules},
  }};
  for (const auto& [verb, noun, command] : kCommands) {
    if (positional.size() >= 2 && positional[0] == verb && positional[1] == noun) {
      out.command = command;
      out.args.assign(positional.begin() + 2, positional.end());
      if (out.args.empty()) return util::Fail("{} {} needs at least one FILE", verb, noun);
      return out;
    }
  }
  std::string joined;
  for (const auto& p : positional) joined += (joined.empty() ? "" : " ") + p;
  return util::Fail("unknown command \"{}\" (see --help)", joined);
}

std::string Usage() {
  std::string out =
      "usage: vigil [flags]\n"
      "       vigil check config FILE...\n"
      "       vigil check rules FILE...                 (like promtool check rules)\n"
      "       vigil test rules [--promql.semantics=v2] FILE...    (like promtool test rules)\n"
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
