#include <iostream>
#include <string>
#include <vector>

#include "daemon/app/build_info.h"
#include "daemon/app/builtin_exporters.h"
#include "daemon/app/check_command.h"
#include "daemon/app/daemon.h"
#include "daemon/app/flags.h"
#include "daemon/promql/promqltest/runner.h"
#include "daemon/ruler/ruletest/rule_tests.h"
#include "daemon/util/log.h"

int main(int argc, char** argv) {
  using namespace vigil::app;
  std::vector<std::string> args(argv, argv + argc);
  auto command_line = ParseCommandLine(args);
  if (!command_line) {
    std::cerr << "vigil: " << command_line.error().message << "\n";
    return 2;
  }
  const auto semantics = command_line->flags.promql_semantics == "v2"
                             ? vigil::promql::Semantics::V2()
                             : vigil::promql::Semantics::V3();
  switch (command_line->command) {
    case Command::kHelp:
      std::cout << Usage();
      return 0;
    case Command::kVersion:
      std::cout << "vigil, version " << kVersion << " (revision: " << kRevision << ")\n"
                << "  compiler: " << kCompiler << "\n";
      return 0;
    case Command::kCheckConfig: {
      boost::asio::io_context io;
      vigil::util::WorkerPool workers(1, 1);
      vigil::net::HttpClient http(io);
      vigil::exporters::ProbeKindRegistry kinds;
      RegisterBuiltinExporters(kinds, workers, http);
      return CheckConfigFiles(command_line->args, kinds.ConfigRegistry(), std::cout, std::cerr);
    }
    case Command::kCheckRules:
      return vigil::ruletest::CheckRules(command_line->args, semantics, std::cout, std::cerr);
    case Command::kTestRules: {
      vigil::ruletest::TestRulesOptions options;
      options.semantics = semantics;
      return vigil::ruletest::TestRules(command_line->args, options, std::cout, std::cerr);
    }
    case Command::kTestPromql: {
      std::vector<vigil::promqltest::FileReport> reports;
      bool failed = false;
      for (const auto& file : command_line->args) {
        reports.push_back(vigil::promqltest::RunTestFile(file, semantics));
        failed = failed || !reports.back().error.empty() ||
                 reports.back().Count(vigil::promqltest::Outcome::kFailed) > 0;
      }
      vigil::promqltest::PrintReport(std::cout, reports);
      return failed ? 1 : 0;
    }
    case Command::kRun:
      break;
  }
  const Flags& flags = command_line->flags;
  if (auto configured = vigil::util::log::Configure(flags.log_level, flags.log_format);
      !configured) {
    std::cerr << "vigil: " << configured.error().message << "\n";
    return 2;
  }
  Daemon daemon(flags);
  return daemon.Run();
}
