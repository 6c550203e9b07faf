#include "matrix/unread_counts.hpp"

#include <algorithm>
#include <functional>
#include <optional>

#include "matrix/push_rules.hpp"
#include "matrix/room_events.hpp"

namespace ruche::matrix {

namespace json = core::json;

namespace {

std::string EntryKey(const std::string& user, const std::string& room) {
  std::string key;
  key.reserve(room.size() + 1 + user.size());
  key.append(room).append(1, '\n').append(user);
  return key;
}

const json::value* Field(const json::object& obj, std::string_view name) {
  return obj.if_contains(name);
}

std::string_view StringField(const json::object& obj, std::string_view name) {
  const json::value* v = obj.if_contains(name);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

// The thread an event belongs to ("" = the main timeline): m.thread relations name the root.
std::string_view ThreadOf(const json::object& ev) {
  const json::value* content = Field(ev, "content");
  if (!content || !content->is_object()) {
    return {};
  }
  const json::value* rel = Field(content->get_object(), "m.relates_to");
  if (!rel || !rel->is_object() || StringField(rel->get_object(), "rel_type") != "m.thread") {
    return {};
  }
  return StringField(rel->get_object(), "event_id");
}

int64_t PowerOf(const json::object& levels, std::string_view user) {
  auto number = [](const json::value* v, int64_t fallback) {
    return v && (v->is_int64() || v->is_uint64()) ? v->to_number<int64_t>() : fallback;
  };
  if (const json::value* users = Field(levels, "users"); users && users->is_object()) {
    if (const json::value* mine = users->get_object().if_contains(user)) {
      return number(mine, 0);
    }
  }
  return number(Field(levels, "users_default"), 0);
}

}  // namespace

UnreadCount RoomUnread::Total() const {
  UnreadCount total = main;
  for (const auto& [root, c] : threads) {
    total.notifications += c.notifications;
    total.highlights += c.highlights;
  }
  return total;
}

UnreadCounts::Shard& UnreadCounts::ShardFor(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

void UnreadCounts::ReadMoved(const std::string& user, const std::string& room, int64_t at) {
  std::string key = EntryKey(user, room);
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  Entry& kept = shard.entries[key];
  int64_t valid_from = std::max(kept.valid_from, at);
  kept = Entry{};
  kept.upto = -1;  // rescan
  kept.valid_from = valid_from;
}

void UnreadCounts::RulesChanged(const std::string& user) {
  std::lock_guard lock(rules_mu_);
  rules_.erase(user);
}

Result<std::shared_ptr<const PushRuleSet>> UnreadCounts::Rules(store::Connection& conn,
                                                               const std::string& user) {
  {
    std::lock_guard lock(rules_mu_);
    if (auto it = rules_.find(user); it != rules_.end()) {
      return it->second;
    }
  }
  RUCHE_ASSIGN_OR_RETURN(
      auto row, conn.QueryOne("SELECT json FROM account_data WHERE user_id = ? AND room_id = '' "
                              "AND type = 'm.push_rules'",
                              {user}));
  if (!row) {
    // The spec's defaults, not stored: one compiled set shared by every such user.
    static const auto defaults = std::make_shared<const PushRuleSet>(
        PushRuleSet::Compile(DefaultPushRules(std::string(PushRuleSet::kUserIdSlot),
                                              std::string(PushRuleSet::kLocalpartSlot)),
                             PushRuleSet::kUserIdSlot));
    std::lock_guard lock(rules_mu_);
    rules_[user] = defaults;
    return defaults;
  }
  json::object ruleset;
  {
    boost::system::error_code ec;
    json::value parsed = json::parse(row->Text(0), ec);
    if (!ec && parsed.is_object()) {
      ruleset = std::move(parsed.get_object());
    }
  }
  auto compiled = std::make_shared<const PushRuleSet>(PushRuleSet::Compile(ruleset, user));
  std::lock_guard lock(rules_mu_);
  if (rules_.size() >= kMaxRuleSets) {
    rules_.clear();
  }
  rules_[user] = compiled;
  return compiled;
}

int64_t UnreadCounts::JoinedMembers(store::Connection& conn, const std::string& room, int64_t pos) {
  {
    std::lock_guard lock(count_mu_);
    // Still the count at `pos` if no membership event was written since it was counted.
    if (auto it = member_counts_.find(room);
        it != member_counts_.end() &&
        (it->second.pos == pos ||
         (notifier_ && it->second.pos < pos &&
          !notifier_->WrittenSince(Notifier::Kind::kMembership, it->second.pos)))) {
      return it->second.count;
    }
  }
  auto row = conn.QueryOne(
      "SELECT COUNT(*) FROM memberships WHERE room_id = ? AND membership = 'join' AND "
      "stream_ordering <= ?",
      {room, pos});
  int64_t count = row && *row ? (*row)->Int(0) : 0;
  std::lock_guard lock(count_mu_);
  if (member_counts_.size() >= kMaxEntriesPerShard) {
    member_counts_.clear();
  }
  MemberCount& kept = member_counts_[room];
  if (kept.pos <= pos) {  // a slower sync's older count does not replace a newer one
    kept = MemberCount{pos, count};
  }
  return count;
}

void UnreadCounts::Apply(Entry& e, store::Connection& conn, const std::string& user,
                         const std::string& room, int64_t pos, int64_t stream,
                         const json::object& ev, const PushRuleSet& rules) {
  std::string_view bucket = ThreadOf(ev);
  std::string_view sender = StringField(ev, "sender");
  std::string_view type = StringField(ev, "type");
  if (type == "m.room.member" && StringField(ev, "state_key") == user) {
    const json::value* content = Field(ev, "content");
    e.display_name = content && content->is_object()
                         ? std::string(StringField(content->get_object(), "displayname"))
                         : std::string();
  }
  if (sender == user) {
    // Writing in a thread (or the main timeline) reads it up to there.
    e.read[std::string(bucket)] = stream;
    (bucket.empty() ? e.counts.main : e.counts.threads[std::string(bucket)]) = UnreadCount{};
    return;
  }
  int64_t read = e.unthreaded_read;
  if (auto it = e.read.find(std::string(bucket)); it != e.read.end()) {
    read = std::max(read, it->second);
  }
  if (stream <= read) {
    return;
  }
  // The callbacks capture one pointer each, so std::function keeps them without allocating
  // (this runs once per member for every message of a busy room).
  struct Facts {
    UnreadCounts* self;
    store::Connection* conn;
    const std::string* room;
    int64_t pos;
  } facts{this, &conn, &room, pos};
  PushContext ctx;
  ctx.user_id = user;
  std::string_view local(user);
  local = local.substr(1, local.find(':') - 1);  // "@alice:example.org" -> "alice"
  ctx.localpart = local;
  ctx.display_name = e.display_name;
  ctx.joined_member_count = [f = &facts] {
    return f->self->JoinedMembers(*f->conn, *f->room, f->pos);
  };
  ctx.sender_may_notify = [f = &facts](std::string_view key, std::string_view who) {
    const std::string& room = *f->room;
    auto row = f->conn->QueryOne(
        "SELECT e.json FROM room_state s JOIN events e ON e.event_id = s.event_id WHERE "
        "s.room_id = ? AND s.type = 'm.room.power_levels' AND s.state_key = ''",
        {room});
    if (!row || !*row) {
      return false;
    }
    auto levels = ParseStoredEvent((*row)->Text(0));
    if (!levels) {
      return false;
    }
    const json::value* content = Field(*levels, "content");
    if (!content || !content->is_object()) {
      return false;
    }
    int64_t needed = 50;
    if (const json::value* n = Field(content->get_object(), "notifications"); n && n->is_object()) {
      if (const json::value* k = n->get_object().if_contains(key);
          k && (k->is_int64() || k->is_uint64())) {
        needed = k->to_number<int64_t>();
      }
    }
    return PowerOf(content->get_object(), who) >= needed;
  };
  PushOutcome outcome = rules.Evaluate(ev, ctx);
  if (!outcome.notify) {
    return;
  }
  UnreadCount& c = bucket.empty() ? e.counts.main : e.counts.threads[std::string(bucket)];
  ++c.notifications;
  if (outcome.highlight) {
    ++c.highlights;
  }
}

Result<UnreadCounts::Entry> UnreadCounts::Rescan(store::Connection& conn, const std::string& user,
                                                 const std::string& room, int64_t pos,
                                                 const PushRuleSet& rules) {
  Entry e;
  e.upto = pos;
  RUCHE_ASSIGN_OR_RETURN(
      auto receipts,
      conn.Query("SELECT r.thread_id, MAX(e.stream_ordering) FROM receipts r JOIN events e ON "
                 "e.event_id = r.event_id WHERE r.room_id = ? AND r.user_id = ? AND "
                 "r.receipt_type IN ('m.read', 'm.read.private') GROUP BY r.thread_id",
                 {room, user}));
  for (const auto& row : receipts) {
    const std::string& thread = row.Text(0);
    if (thread.empty()) {
      e.unthreaded_read = row.Int(1);
    } else {
      e.read[thread == "main" ? std::string() : thread] = row.Int(1);
    }
  }
  RUCHE_ASSIGN_OR_RETURN(
      auto joined, conn.QueryOne("SELECT stream_ordering FROM memberships WHERE room_id = ? AND "
                                 "user_id = ? AND membership = 'join'",
                                 {room, user}));
  if (!joined) {
    return e;  // not a member (any more): nothing is unread
  }
  // Events before the join never count; nor do those before the unthreaded receipt, which
  // reads every thread.
  int64_t floor = std::max(e.unthreaded_read, joined->Int(0));
  e.unthreaded_read = floor;
  RUCHE_ASSIGN_OR_RETURN(auto member, CurrentMemberEventJson(conn, room, user));
  if (member) {
    if (auto ev = ParseStoredEvent(*member); ev) {
      const json::value* content = Field(*ev, "content");
      if (content && content->is_object()) {
        e.display_name = StringField(content->get_object(), "displayname");
      }
    }
  }
  // Others' events of the types the rules silence (joins and leaves, with the default rules)
  // are left in the database: a rescan in a big room would otherwise parse its every join.
  std::string sql =
      "SELECT stream_ordering, json FROM events WHERE room_id = ? AND stream_ordering > ? AND "
      "stream_ordering <= ?";
  std::vector<store::Value> params{room, floor, pos};
  if (const auto& silenced = rules.SilencedTypes(); !silenced.empty()) {
    sql += " AND NOT (type IN (" + store::Placeholders(silenced.size()) +
           ") AND sender != ? AND (state_key IS NULL OR state_key != ?))";
    params.insert(params.end(), silenced.begin(), silenced.end());
    params.emplace_back(user);
    params.emplace_back(user);
  }
  sql += " ORDER BY stream_ordering DESC LIMIT ?";
  params.emplace_back(kMaxScan);
  RUCHE_ASSIGN_OR_RETURN(auto rows, conn.Query(sql, std::span<const store::Value>(params)));
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
    auto ev = ParseStoredEvent(it->Text(1));
    if (ev) {
      Apply(e, conn, user, room, pos, it->Int(0), *ev, rules);
    }
  }
  return e;
}

bool UnreadCounts::Known(const std::string& user, const std::string& room) {
  std::string key = EntryKey(user, room);
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.entries.find(key);
  return it != shard.entries.end() && it->second.upto >= 0;
}

Result<RoomUnread> UnreadCounts::Counts(
    store::Connection& conn, const std::string& user, const std::string& room, int64_t from,
    int64_t pos, const std::vector<std::pair<int64_t, json::object>>* window) {
  RUCHE_ASSIGN_OR_RETURN(auto rules, Rules(conn, user));
  std::string key = EntryKey(user, room);
  Shard& shard = ShardFor(key);
  std::optional<Entry> known;
  {
    std::lock_guard lock(shard.mu);
    if (auto it = shard.entries.find(key); it != shard.entries.end()) {
      known = it->second;
    }
  }
  Entry e;
  if (known && known->upto >= pos) {
    e = std::move(*known);  // another device's sync got here first
  } else if (known && window && known->upto >= from) {
    e = std::move(*known);
    for (const auto& [stream, ev] : *window) {
      if (stream > e.upto) {
        Apply(e, conn, user, room, pos, stream, ev, *rules);
      }
    }
    e.upto = pos;
  } else {
    RUCHE_ASSIGN_OR_RETURN(e, Rescan(conn, user, room, pos, *rules));
  }
  RoomUnread counts = e.counts;
  std::lock_guard lock(shard.mu);
  Entry& kept = shard.entries[key];
  // Only forward, and never from a snapshot older than a receipt seen since (a slower sync of
  // another device must not bring back counts from before it).
  if (pos >= kept.valid_from && kept.upto <= e.upto) {
    e.valid_from = kept.valid_from;
    if (shard.entries.size() > kMaxEntriesPerShard) {
      shard.entries.clear();
      shard.entries[key] = std::move(e);
    } else {
      kept = std::move(e);
    }
  }
  return counts;
}

}  // namespace ruche::matrix
