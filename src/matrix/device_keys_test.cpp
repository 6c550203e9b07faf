#include "matrix/device_keys.hpp"

#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "core/crypto.hpp"
#include "matrix/canonical_json.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ruche::matrix {
namespace {

std::string Base64(const unsigned char* data, size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// An ed25519 key pair that signs JSON the way Matrix clients do.
struct Signer {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  Signer() {
    EXPECT_TRUE(core::InitCrypto());
    crypto_sign_keypair(pk, sk);
  }
  std::string Public() const { return Base64(pk, sizeof pk); }
  // Adds signatures[user][key_id] over the canonical object without signatures/unsigned.
  void Sign(json::object& obj, const std::string& user, const std::string& key_id) const {
    json::object bare = obj;
    bare.erase("signatures");
    bare.erase("unsigned");
    std::string canonical = *CanonicalJson(bare);
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(canonical.data()),
                         canonical.size(), sk);
    json::value& sigs = obj["signatures"];
    if (!sigs.is_object()) {
      sigs = json::object{};
    }
    json::value& by_user = sigs.as_object()[user];
    if (!by_user.is_object()) {
      by_user = json::object{};
    }
    by_user.as_object()[key_id] = Base64(sig, sizeof sig);
  }
};

constexpr const char* kUser = "@alice:example.org";
constexpr const char* kDevice = "DEVICEA";

json::object DeviceKeysOf(const Signer& signer) {
  json::object keys{
      {"user_id", kUser},
      {"device_id", kDevice},
      {"algorithms", json::array{"m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"}},
      {"keys", json::object{{"curve25519:DEVICEA", "curveKeyBase64"},
                            {"ed25519:DEVICEA", signer.Public()}}}};
  signer.Sign(keys, kUser, "ed25519:DEVICEA");
  return keys;
}

TEST(DeviceKeysCheck, SignatureVerifiesOnlyForTheSignedObjectAndKey) {
  Signer signer, other;
  json::object obj{{"a", 1}, {"b", "text"}};
  signer.Sign(obj, kUser, "ed25519:K");
  EXPECT_TRUE(VerifySignature(obj, kUser, "ed25519:K", signer.Public()));
  obj["unsigned"] = json::object{{"ignored", true}};  // not covered by the signature
  EXPECT_TRUE(VerifySignature(obj, kUser, "ed25519:K", signer.Public()));
  EXPECT_FALSE(VerifySignature(obj, kUser, "ed25519:K", other.Public()));
  EXPECT_FALSE(VerifySignature(obj, "@bob:example.org", "ed25519:K", signer.Public()));
  EXPECT_FALSE(VerifySignature(obj, kUser, "ed25519:OTHER", signer.Public()));
  json::object tampered = obj;
  tampered["b"] = "changed";
  EXPECT_FALSE(VerifySignature(tampered, kUser, "ed25519:K", signer.Public()));
  json::object short_sig = obj;
  short_sig["signatures"].as_object()[kUser].as_object()["ed25519:K"] = "AAAA";
  EXPECT_FALSE(VerifySignature(short_sig, kUser, "ed25519:K", signer.Public()));
  EXPECT_FALSE(VerifySignature(obj, kUser, "ed25519:K", "not base64!"));
}

TEST(DeviceKeysCheck, AcceptsSelfSignedDeviceKeysAndDropsUnsigned) {
  Signer signer;
  json::object keys = DeviceKeysOf(signer);
  keys["unsigned"] = json::object{{"device_display_name", "laptop"}};
  auto checked = CheckDeviceKeys(keys, kUser, kDevice);
  ASSERT_TRUE(checked) << checked.error().message;
  EXPECT_FALSE(checked->contains("unsigned"));
  EXPECT_EQ(DeviceSigningKey(*checked, kDevice), signer.Public());
}

TEST(DeviceKeysCheck, RefusesDeviceKeysNotOwnOrNotSelfSigned) {
  Signer signer, other;
  EXPECT_EQ(CheckDeviceKeys(DeviceKeysOf(signer), "@bob:example.org", kDevice).error().errcode,
            "M_INVALID_PARAM");
  EXPECT_EQ(CheckDeviceKeys(DeviceKeysOf(signer), kUser, "OTHERDEV").error().errcode,
            "M_INVALID_PARAM");
  json::object forged = DeviceKeysOf(signer);
  forged["signatures"] = json::object{};
  other.Sign(forged, kUser, "ed25519:DEVICEA");  // signed, but not by the key it declares
  EXPECT_EQ(CheckDeviceKeys(forged, kUser, kDevice).error().errcode, "M_INVALID_SIGNATURE");
  json::object unsigned_keys = DeviceKeysOf(signer);
  unsigned_keys.erase("signatures");
  EXPECT_FALSE(CheckDeviceKeys(unsigned_keys, kUser, kDevice));
  json::object no_ed25519 = DeviceKeysOf(signer);
  no_ed25519["keys"].as_object().erase("ed25519:DEVICEA");
  EXPECT_EQ(CheckDeviceKeys(no_ed25519, kUser, kDevice).error().errcode, "M_INVALID_PARAM");
  json::object huge = DeviceKeysOf(signer);
  huge["algorithms"] = json::array{std::string(kMaxKeyObjectBytes, 'x')};
  EXPECT_EQ(CheckDeviceKeys(huge, kUser, kDevice).error().http_status, 413);
}

TEST(DeviceKeysCheck, SignaturesObjectsMustBeObjectsOfObjectsOfStrings) {
  EXPECT_TRUE(ValidateSignatures(json::object{{kUser, json::object{{"ed25519:A", "sig"}}}}));
  for (const json::value& bad : std::vector<json::value>{
           json::array{}, json::string("x"), json::object{{kUser, "notanobject"}},
           json::object{{kUser, json::object{{"ed25519:A", 5}}}},
           json::object{{kUser, json::object{{"nocolon", "sig"}}}},
           json::object{{kUser, json::object{{":empty", "sig"}}}}}) {
    EXPECT_FALSE(ValidateSignatures(bad)) << json::serialize(bad);
  }
  json::object many;
  for (int i = 0; i < 100; ++i) {
    many["@u" + std::to_string(i) + ":x"] = json::object{};
  }
  EXPECT_FALSE(ValidateSignatures(many));
}

TEST(DeviceKeysCheck, UploadedKeysAreNamedAlgorithmColonId) {
  auto key = CheckUploadedKey("signed_curve25519:AAAAHQ",
                              json::object{{"key", "abc"}, {"signatures", json::object{}}});
  ASSERT_TRUE(key);
  EXPECT_EQ(key->algorithm, "signed_curve25519");
  EXPECT_EQ(key->key_id, "AAAAHQ");
  auto plain = CheckUploadedKey("curve25519:X:Y", json::string("abc"));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->key_id, "X:Y");  // split at the first colon
  EXPECT_FALSE(CheckUploadedKey("nocolon", json::string("abc")));
  EXPECT_FALSE(CheckUploadedKey(":id", json::string("abc")));
  EXPECT_FALSE(CheckUploadedKey("alg:", json::string("abc")));
  EXPECT_FALSE(CheckUploadedKey("alg:id", json::value(5)));
  EXPECT_FALSE(CheckUploadedKey("alg:id", json::object{{"nokey", "x"}}));
  EXPECT_FALSE(CheckUploadedKey("alg:id", json::object{{"key", "x"}, {"signatures", 3}}));
}

TEST(DeviceKeysCheck, CrossSigningKeysHaveOneUsageAndOneEd25519Key) {
  Signer master;
  std::string pub = master.Public();
  json::object key{{"user_id", kUser},
                   {"usage", json::array{"master"}},
                   {"keys", json::object{{"ed25519:" + pub, pub}}}};
  auto got = CheckCrossSigningKey(key, kUser, "master");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, pub);
  EXPECT_FALSE(CheckCrossSigningKey(key, kUser, "self_signing"));
  EXPECT_FALSE(CheckCrossSigningKey(key, "@bob:example.org", "master"));
  json::object mismatch = key;
  mismatch["keys"] = json::object{{"ed25519:" + pub, "other"}};
  EXPECT_FALSE(CheckCrossSigningKey(mismatch, kUser, "master"));
  json::object not_a_key = key;
  not_a_key["keys"] = json::object{{"ed25519:abc", "abc"}};
  EXPECT_FALSE(CheckCrossSigningKey(not_a_key, kUser, "master"));
  json::object two = key;
  two["keys"].as_object()["ed25519:x"] = "x";
  EXPECT_FALSE(CheckCrossSigningKey(two, kUser, "master"));
}

class ClaimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(core::InitCrypto());
    dir_ = std::filesystem::temp_directory_path() /
           ("ruche_keys_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    auto s = store::OpenSqliteStore({(dir_ / "ruche.db").string(), 2, 64});
    ASSERT_TRUE(s);
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  store::StorePtr store_;
};

TEST_F(ClaimTest, ConcurrentClaimersNeverGetTheSameOneTimeKey) {
  constexpr int kKeys = 40, kThreads = 8, kClaimsPerThread = 10;
  ASSERT_TRUE(store_->WriteSync([](store::Connection& c) -> Result<void> {
    for (int i = 0; i < kKeys; ++i) {
      std::string id = "K" + std::to_string(1000 + i);
      RUCHE_RETURN_IF_ERROR(c.Execute(
          "INSERT INTO one_time_keys (user_id, device_id, algorithm, key_id, json) VALUES "
          "(?, ?, 'signed_curve25519', ?, ?)",
          {std::string(kUser), std::string(kDevice), id, "\"key-" + id + "\""}));
    }
    RUCHE_RETURN_IF_ERROR(
        c.Execute("INSERT INTO fallback_keys (user_id, device_id, algorithm, key_id, json) VALUES "
                  "(?, ?, 'signed_curve25519', 'FB', '\"fallback\"')",
                  {std::string(kUser), std::string(kDevice)}));
    return {};
  }));
  std::mutex mu;
  std::map<std::string, int> handed_out;  // key name -> times
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kClaimsPerThread; ++i) {
        auto claimed = std::make_shared<std::optional<json::object>>();
        auto r = store_->WriteSync([claimed](store::Connection& c) -> Result<void> {
          RUCHE_ASSIGN_OR_RETURN(*claimed, ClaimKey(c, kUser, kDevice, "signed_curve25519"));
          return {};
        });
        ASSERT_TRUE(r);
        ASSERT_TRUE(claimed->has_value());
        std::lock_guard lock(mu);
        handed_out[std::string((*claimed)->begin()->key())]++;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  int one_time = 0;
  for (const auto& [name, times] : handed_out) {
    if (name == "signed_curve25519:FB") {
      EXPECT_EQ(times, kThreads * kClaimsPerThread - kKeys);  // the rest got the fallback
    } else {
      EXPECT_EQ(times, 1) << name << " was handed out more than once";
      ++one_time;
    }
  }
  EXPECT_EQ(one_time, kKeys);
  auto left = store_->Read()->QueryOne("SELECT COUNT(*) FROM one_time_keys");
  ASSERT_TRUE(left && *left);
  EXPECT_EQ((*left)->Int(0), 0);
  auto used = store_->Read()->QueryOne("SELECT used FROM fallback_keys");
  ASSERT_TRUE(used && *used);
  EXPECT_EQ((*used)->Int(0), 1);
}

TEST_F(ClaimTest, NoKeyForAnUnknownDevice) {
  auto claimed = std::make_shared<std::optional<json::object>>();
  ASSERT_TRUE(store_->WriteSync([claimed](store::Connection& c) -> Result<void> {
    RUCHE_ASSIGN_OR_RETURN(*claimed, ClaimKey(c, kUser, "NOSUCH", "signed_curve25519"));
    return {};
  }));
  EXPECT_FALSE(claimed->has_value());
}

}  // namespace
}  // namespace ruche::matrix
