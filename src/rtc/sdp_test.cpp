#include "rtc/sdp.hpp"

#include <gtest/gtest.h>

namespace ruche::rtc {
namespace {

// Chromium 156's offer for a sendonly microphone and camera, trimmed to the codecs that matter.
constexpr std::string_view kChromiumOffer =
    "v=0\r\n"
    "o=- 1442528238609324054 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 0\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:nV87\r\n"
    "a=ice-pwd:EyGQMhxmPL+8zloSd+uVK2R4\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "28:94:DB:73:60:5B:D8:80:82:A9:3C:66:EA:BD:D4:0D:58:FD:C1:D1:3C:F2:59:F9:56:89:F7:FB:80:55:B4:"
    "16\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendonly\r\n"
    "a=msid:- 1d11bd0c\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=ssrc:2885221362 cname:ILQO4b8T+YN4wqEo\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 108 109\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:nV87\r\n"
    "a=ice-pwd:EyGQMhxmPL+8zloSd+uVK2R4\r\n"
    "a=fingerprint:sha-256 "
    "28:94:db:73:60:5b:d8:80:82:a9:3c:66:ea:bd:d4:0d:58:fd:c1:d1:3c:f2:59:f9:56:89:f7:fb:80:55:b4:"
    "16\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    "a=sendonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:108 H264/90000\r\n"
    "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:109 rtx/90000\r\n"
    "a=fmtp:109 apt=108\r\n"
    "a=ssrc-group:FID 1825494953 2125174647\r\n"
    "a=ssrc:1825494953 cname:ILQO4b8T+YN4wqEo\r\n"
    "a=ssrc:2125174647 cname:ILQO4b8T+YN4wqEo\r\n";

const LocalTransport kLocal{"abcd1234", "0123456789abcdefghijklmn",
                            "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:"
                            "11:22:33:44:55:66:77:88:99",
                            "127.0.0.1", 8009};

TEST(Sdp, ParsesChromiumOffer) {
  auto sdp = ParseSdp(kChromiumOffer);
  ASSERT_TRUE(sdp) << sdp.error().message;
  EXPECT_EQ(sdp->ice_ufrag, "nV87");
  EXPECT_EQ(sdp->ice_pwd, "EyGQMhxmPL+8zloSd+uVK2R4");
  EXPECT_EQ(sdp->setup, "actpass");
  // Lower-case hex in the second section is the same fingerprint.
  EXPECT_EQ(sdp->fingerprint.substr(0, 8), "28:94:DB");
  ASSERT_EQ(sdp->media.size(), 2u);
  const MediaSection& audio = sdp->media[0];
  EXPECT_EQ(audio.kind, MediaKind::kAudio);
  EXPECT_EQ(audio.mid, "0");
  EXPECT_EQ(audio.direction, "sendonly");
  EXPECT_EQ(audio.ExtensionId(kExtAudioLevel), 1);
  EXPECT_EQ(audio.ssrcs, std::vector<uint32_t>{2885221362u});
  ASSERT_NE(audio.FindCodec(111), nullptr);
  EXPECT_EQ(audio.FindCodec(111)->name, "opus");
  EXPECT_EQ(audio.FindCodec(111)->channels, 2);
  const MediaSection& video = sdp->media[1];
  EXPECT_EQ(video.rtx_ssrc, 2125174647u);
  EXPECT_EQ(video.FindCodec(96)->rtx_payload_type, 97);
  EXPECT_EQ(video.FindCodec(96)->feedback.size(), 5u);
}

TEST(Sdp, ChoosesOpusAndVp8AndAnswersRecvOnly) {
  auto offer = ParseSdp(kChromiumOffer);
  ASSERT_TRUE(offer);
  auto accepted = ChoosePublishedMedia(*offer);
  ASSERT_EQ(accepted.size(), 2u);
  EXPECT_EQ(accepted[0].codec.name, "opus");
  EXPECT_EQ(accepted[1].codec.name, "VP8");
  // Only the feedback Ruche honours survives, transport-cc included (Ruche reports arrivals).
  EXPECT_EQ(accepted[1].codec.feedback,
            (std::vector<std::string>{"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"}));
  EXPECT_EQ(accepted[0].codec.feedback, std::vector<std::string>{"transport-cc"});
  ASSERT_EQ(accepted[0].extensions.size(), 3u);  // audio level, mid, transport-wide sequence
  EXPECT_EQ(accepted[0].extensions[1].uri, kExtTransportCc);

  std::string answer = BuildPublishAnswer(*offer, accepted, kLocal);
  auto parsed = ParseSdp(answer);
  ASSERT_TRUE(parsed) << parsed.error().message << "\n" << answer;
  EXPECT_NE(answer.find("a=ice-lite"), std::string::npos);
  EXPECT_NE(answer.find("a=group:BUNDLE 0 1"), std::string::npos);
  EXPECT_NE(answer.find("a=candidate:1 1 udp 2130706431 127.0.0.1 8009 typ host"),
            std::string::npos);
  EXPECT_EQ(parsed->setup, "passive");
  EXPECT_EQ(parsed->ice_ufrag, "abcd1234");
  ASSERT_EQ(parsed->media.size(), 2u);
  EXPECT_EQ(parsed->media[0].direction, "recvonly");
  EXPECT_EQ(parsed->media[1].codecs.size(), 2u);  // VP8 and its RTX
}

TEST(Sdp, TheFirstBundledSectionsTransportWins) {
  // aiortc and Chrome's "balanced" policy give each section its own credentials; once the
  // answer bundles them, the first section's transport carries everything.
  std::string two_ufrags(kChromiumOffer);
  two_ufrags.replace(two_ufrags.rfind("a=ice-ufrag:nV87"), 16, "a=ice-ufrag:zzzz");
  auto sdp = ParseSdp(two_ufrags);
  ASSERT_TRUE(sdp) << sdp.error().message;
  EXPECT_EQ(sdp->ice_ufrag, "nV87");
}

TEST(Sdp, PrefersH264WhenNoVp8) {
  std::string offer(kChromiumOffer);
  offer.replace(offer.find("96 97 108 109"), 13, "108 109");
  auto sdp = ParseSdp(offer);
  ASSERT_TRUE(sdp);
  auto accepted = ChoosePublishedMedia(*sdp);
  ASSERT_EQ(accepted.size(), 2u);
  EXPECT_EQ(accepted[1].codec.name, "H264");
  EXPECT_EQ(accepted[1].codec.payload_type, 108);
}

TEST(Sdp, RejectsSectionsWithNothingUsable) {
  std::string offer(kChromiumOffer);
  offer.replace(offer.find("111 63 0"), 8, "0");  // PCMU only
  auto sdp = ParseSdp(offer);
  ASSERT_TRUE(sdp);
  auto accepted = ChoosePublishedMedia(*sdp);
  ASSERT_EQ(accepted.size(), 1u);
  std::string answer = BuildPublishAnswer(*sdp, accepted, kLocal);
  EXPECT_NE(answer.find("m=audio 0 UDP/TLS/RTP/SAVPF 0"), std::string::npos);
  EXPECT_NE(answer.find("a=group:BUNDLE 1\r\n"), std::string::npos);
}

TEST(Sdp, SubscribeOfferDeclaresSsrcsAndInactiveSections) {
  Codec vp8;
  vp8.name = "VP8";
  vp8.payload_type = 96;
  vp8.clock_rate = 90000;
  vp8.feedback = {"nack", "nack pli"};
  Codec opus;
  opus.name = "opus";
  opus.payload_type = 111;
  opus.clock_rate = 48000;
  opus.channels = 2;
  Codec vp8_rtx = vp8;
  vp8_rtx.rtx_payload_type = 97;
  std::vector<OfferedTrack> tracks{
      {"0", MediaKind::kAudio, opus, 1111, 0, "alice", "a-audio", true},
      {"1", MediaKind::kVideo, vp8_rtx, 2222, 2223, "alice", "a-video", true},
      {"2", MediaKind::kVideo, vp8, 3333, 0, "bob", "b-video", false},
  };
  std::string offer = BuildSubscribeOffer(tracks, kLocal, 7);
  auto parsed = ParseSdp(offer);
  ASSERT_TRUE(parsed) << parsed.error().message << "\n" << offer;
  ASSERT_EQ(parsed->media.size(), 3u);
  EXPECT_EQ(parsed->setup, "actpass");
  EXPECT_EQ(parsed->media[1].direction, "sendonly");
  // Video with RTX (RFC 4588): the retransmission SSRC grouped with the media one, the rtx
  // payload type pointing at VP8.
  EXPECT_EQ(parsed->media[1].ssrcs, (std::vector<uint32_t>{2222u, 2223u}));
  EXPECT_EQ(parsed->media[1].rtx_ssrc, 2223u);
  ASSERT_NE(parsed->media[1].FindCodec(96), nullptr);
  EXPECT_EQ(parsed->media[1].FindCodec(96)->rtx_payload_type, 97);
  EXPECT_EQ(parsed->media[0].ssrcs, std::vector<uint32_t>{1111u});
  EXPECT_EQ(parsed->media[0].rtx_ssrc, 0u);
  EXPECT_EQ(parsed->media[2].direction, "inactive");
  EXPECT_TRUE(parsed->media[2].ssrcs.empty());
  EXPECT_NE(offer.find("a=msid:alice a-video"), std::string::npos);
  EXPECT_NE(offer.find("o=- 4611731400430051336 7 IN IP4"), std::string::npos);
  // The extensions Ruche writes, with the same ids in every bundled section; the audio level
  // on audio only.
  for (const auto& m : parsed->media) {
    EXPECT_EQ(m.ExtensionId(kExtMid), kSubscriberMidExtId) << m.mid;
    EXPECT_EQ(m.ExtensionId(kExtAbsSendTime), kSubscriberAbsSendTimeExtId) << m.mid;
    EXPECT_EQ(m.ExtensionId(kExtAudioLevel),
              m.kind == MediaKind::kAudio ? kSubscriberAudioLevelExtId : 0)
        << m.mid;
    EXPECT_EQ(m.ExtensionId(kExtTransportCc), 0) << m.mid;
  }
}

TEST(Sdp, RefusesWhatRucheCannotUse) {
  auto without = [](std::string_view needle) {
    std::string s(kChromiumOffer);
    size_t at;
    while ((at = s.find(needle)) != std::string::npos) {
      size_t end = s.find("\r\n", at);
      s.erase(at, end + 2 - at);
    }
    return s;
  };
  EXPECT_FALSE(ParseSdp(without("a=ice-ufrag")));
  EXPECT_FALSE(ParseSdp(without("a=fingerprint")));
  EXPECT_FALSE(ParseSdp(without("a=rtcp-mux")));
  EXPECT_FALSE(ParseSdp(without("a=mid")));
  EXPECT_FALSE(ParseSdp(""));
  EXPECT_FALSE(ParseSdp("v=1\r\n"));
  EXPECT_FALSE(ParseSdp(std::string(kMaxSdpBytes + 1, 'a')));
  std::string bad_pt(kChromiumOffer);
  bad_pt.replace(bad_pt.find("111 63 0"), 8, "300 63 0");
  EXPECT_FALSE(ParseSdp(bad_pt));
}

}  // namespace
}  // namespace ruche::rtc
