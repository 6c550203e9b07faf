#include "auth/app_passwords.hpp"

#include "core/clock.hpp"
#include "core/crypto.hpp"

namespace ruche::auth {

Result<std::vector<AppPassword>> AppPasswords::List(const std::string& localpart) {
  auto lease = store_.Read();
  RUCHE_ASSIGN_OR_RETURN(auto rows,
                         lease->Query("SELECT app_password_id, name, created_ts, last_used_ts FROM "
                                      "app_passwords WHERE localpart = ? ORDER BY created_ts",
                                      {localpart}));
  std::vector<AppPassword> out;
  for (const auto& r : rows) {
    out.push_back({r.Text(0), r.Text(1), r.Int(2), r.Int(3)});
  }
  return out;
}

Result<std::optional<AppPassword>> AppPasswords::Match(const std::string& localpart,
                                                       std::string_view password) {
  auto lease = store_.Read();
  RUCHE_ASSIGN_OR_RETURN(auto row,
                         lease->QueryOne("SELECT app_password_id, name, created_ts, last_used_ts, "
                                         "localpart FROM app_passwords WHERE password_hash = ?",
                                         {core::Sha256Hex(password)}));
  // The hash is the lookup key; the owner check makes a leaked app password useless with
  // another user's name.
  if (!row || !core::ConstantTimeEquals(row->Text(4), localpart)) {
    return std::optional<AppPassword>();
  }
  return std::optional<AppPassword>(
      AppPassword{row->Text(0), row->Text(1), row->Int(2), row->Int(3)});
}

Result<IssuedAppPassword> AppPasswords::Issue(std::string name) {
  if (name.empty() || name.size() > kMaxAppPasswordNameLength) {
    return Error::BadRequest("name must be 1 to 100 bytes", "M_INVALID_PARAM");
  }
  IssuedAppPassword out;
  out.info.id = core::RandomToken(9);
  out.info.name = std::move(name);
  out.info.created_ts = core::NowMs();
  out.password = core::RandomToken(18);
  return out;
}

store::WriteFn AppPasswords::Create(std::string localpart, IssuedAppPassword issued) {
  return [localpart = std::move(localpart),
          issued = std::move(issued)](store::Connection& c) -> Result<void> {
    RUCHE_ASSIGN_OR_RETURN(
        auto count,
        c.QueryOne("SELECT COUNT(*) FROM app_passwords WHERE localpart = ?", {localpart}));
    if (count && count->Int(0) >= static_cast<int64_t>(kMaxAppPasswordsPerUser)) {
      return Error(400, "M_RESOURCE_LIMIT_EXCEEDED",
                   "too many app passwords: revoke one you no longer use");
    }
    RUCHE_RETURN_IF_ERROR(c.Execute(
        "INSERT INTO app_passwords (app_password_id, localpart, name, password_hash, created_ts) "
        "VALUES (?, ?, ?, ?, ?)",
        {issued.info.id, localpart, issued.info.name, core::Sha256Hex(issued.password),
         issued.info.created_ts}));
    return Ok();
  };
}

store::WriteFn AppPasswords::Revoke(std::string localpart, std::string id) {
  return
      [localpart = std::move(localpart), id = std::move(id)](store::Connection& c) -> Result<void> {
        RUCHE_ASSIGN_OR_RETURN(
            int64_t n,
            c.Execute("DELETE FROM app_passwords WHERE localpart = ? AND app_password_id = ?",
                      {localpart, id}));
        if (n == 0) {
          return Error::NotFound("no app password with that id");
        }
        return Ok();
      };
}

store::WriteFn AppPasswords::Touch(std::string id, int64_t now_ms) {
  return [id = std::move(id), now_ms](store::Connection& c) -> Result<void> {
    RUCHE_RETURN_IF_ERROR(c.Execute(
        "UPDATE app_passwords SET last_used_ts = ? WHERE app_password_id = ?", {now_ms, id}));
    return Ok();
  };
}

}  // namespace ruche::auth
