// The `ruche` command line: `serve`, `admin …`, `config`, `version`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>

#include "app/app.hpp"
#include "core/config.hpp"
#include "core/log.hpp"

namespace {

using ruche::core::Config;

// Configuration precedence: defaults < --config FILE < RUCHE_* env < flags (incl. --set).
struct ConfigFlags {
  std::string config_file;
  std::vector<std::string> sets;
  std::optional<std::string> listen, data, server_name, registration, public_ip, web_root,
      log_level;
  std::optional<int64_t> rtc_udp_port;
  bool no_bootstrap_admin = false;
};

void AddDataFlags(CLI::App* cmd, ConfigFlags& f) {
  cmd->add_option("--data", f.data, "Data folder (default ./var)");
  cmd->add_option("--config", f.config_file, "TOML configuration file");
  cmd->add_option("--server-name", f.server_name, "Matrix server name (default localhost)");
  cmd->add_option("--set", f.sets, "Set any configuration key: --set http.idle_timeout_ms=5000");
}

std::optional<Config> BuildConfig(const ConfigFlags& f) {
  Config c;
  auto fail = [](const ruche::Error& e) {
    std::fprintf(stderr, "ruche: %s\n", e.message.c_str());
    return std::nullopt;
  };
  if (!f.config_file.empty()) {
    if (auto r = ruche::core::LoadConfigFile(c, f.config_file); !r) {
      return fail(r.error());
    }
  }
  if (auto r = ruche::core::LoadConfigEnv(c); !r) {
    return fail(r.error());
  }
  auto set = [&](const char* key, const std::optional<std::string>& v) -> bool {
    if (!v) {
      return true;
    }
    auto r = ruche::core::SetConfigValue(c, key, *v);
    if (!r) {
      fail(r.error());
    }
    return static_cast<bool>(r);
  };
  if (!set("listen", f.listen) || !set("data", f.data) || !set("server_name", f.server_name) ||
      !set("registration", f.registration) || !set("public_ip", f.public_ip) ||
      !set("web_root", f.web_root) || !set("log_level", f.log_level)) {
    return std::nullopt;
  }
  if (f.rtc_udp_port && !set("rtc_udp_port", std::to_string(*f.rtc_udp_port))) {
    return std::nullopt;
  }
  if (f.no_bootstrap_admin) {
    c.bootstrap_admin = false;
  }
  for (const auto& kv : f.sets) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "ruche: --set expects key=value, got '%s'\n", kv.c_str());
      return std::nullopt;
    }
    if (auto r = ruche::core::SetConfigValue(c, kv.substr(0, eq), kv.substr(eq + 1)); !r) {
      return fail(r.error());
    }
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"Ruche — the self-hosted digital workplace"};
  cli.require_subcommand(1);
  ConfigFlags flags;

  auto* serve = cli.add_subcommand("serve", "Run the server");
  serve->add_option("--listen", flags.listen, "HOST:PORT to listen on (default 127.0.0.1:8008)");
  AddDataFlags(serve, flags);
  serve->add_option("--registration", flags.registration, "open | token | closed (default closed)")
      ->check(CLI::IsMember({"open", "token", "closed"}));
  serve->add_option("--rtc-udp-port", flags.rtc_udp_port, "UDP port for all media");
  serve->add_option("--public-ip", flags.public_ip, "Address announced to media clients");
  serve->add_option("--web-root", flags.web_root, "Built web client folder (default web/dist)");
  serve->add_option("--log-level", flags.log_level, "trace|debug|info|warn|error (default info)");
  serve->add_flag("--no-bootstrap-admin", flags.no_bootstrap_admin,
                  "Do not create an 'admin' account on an empty database");

  auto* admin = cli.add_subcommand("admin", "Administration on a data folder");
  admin->require_subcommand(1);
  std::string name, password, token;
  bool is_admin = false;
  std::optional<int64_t> uses;
  auto* create_user = admin->add_subcommand("create-user", "Create an account");
  create_user->add_option("NAME", name, "User name (localpart)")->required();
  create_user->add_option("--password", password, "Password (8 characters or more)")->required();
  create_user->add_flag("--admin", is_admin, "Make the account an administrator");
  AddDataFlags(create_user, flags);
  auto* reset = admin->add_subcommand("reset-password", "Set a new password, sign out everywhere");
  reset->add_option("NAME", name, "User name (localpart)")->required();
  reset->add_option("--password", password, "New password")->required();
  AddDataFlags(reset, flags);
  auto* reg_token =
      admin->add_subcommand("create-registration-token", "Create a token for registration = token");
  reg_token->add_option("--token", token, "The token (random when omitted)");
  reg_token->add_option("--uses", uses, "How many registrations it allows (unlimited by default)");
  AddDataFlags(reg_token, flags);

  auto* config_cmd = cli.add_subcommand("config", "Print the effective configuration");
  AddDataFlags(config_cmd, flags);
  auto* version = cli.add_subcommand("version", "Print the version");

  CLI11_PARSE(cli, argc, argv);

  if (version->parsed()) {
    std::printf("ruche %s\n", RUCHE_VERSION);
    return 0;
  }
  auto config = BuildConfig(flags);
  if (!config) {
    return 2;
  }
  if (!ruche::core::InitLogging(config->log_level)) {
    std::fprintf(stderr, "ruche: unknown log level '%s'\n", config->log_level.c_str());
    return 2;
  }
  auto report = [](const ruche::Result<void>& r) {
    if (r) {
      return 0;
    }
    std::fprintf(stderr, "ruche: %s\n", r.error().message.c_str());
    return 1;
  };
  if (serve->parsed()) {
    return ruche::app::Serve(*config);
  }
  if (config_cmd->parsed()) {
    for (const auto& [k, v] : ruche::core::DescribeConfig(*config)) {
      std::printf("%s = %s\n", k.c_str(), v.c_str());
    }
    return 0;
  }
  if (create_user->parsed()) {
    return report(ruche::app::AdminCreateUser(*config, name, password, is_admin));
  }
  if (reset->parsed()) {
    return report(ruche::app::AdminResetPassword(*config, name, password));
  }
  if (reg_token->parsed()) {
    auto t = ruche::app::AdminCreateRegistrationToken(*config, token, uses);
    if (!t) {
      return report(t.error());
    }
    std::printf("%s\n", t->c_str());
    return 0;
  }
  return 0;
}
