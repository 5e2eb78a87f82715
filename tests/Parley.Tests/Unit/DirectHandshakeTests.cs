using System.Security.Cryptography;
using System.Text;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Protocol.Security.EndToEnd;
using Parley.Tests.Support;

namespace Parley.Tests.Unit;

/// <summary>
/// Issue #6's direct-link handshake without sockets: both ends derive the same record keys; only the holders of the
/// two identity keys can complete it; a recorded request, challenge or proof is useless in a later handshake; a
/// malformed request is turned away; and every handshake has keys of its own. Every message crosses the JSON codec,
/// as it would on the wire.
/// </summary>
public sealed class DirectHandshakeTests : IDisposable
{
    private readonly IdentityKey _ali = IdentityKey.Create();
    private readonly IdentityKey _bianca = IdentityKey.Create();
    private readonly IdentityKey _mallory = IdentityKey.Create();

    public void Dispose()
    {
        _ali.Dispose();
        _bianca.Dispose();
        _mallory.Dispose();
    }

    [Fact]
    public void A_full_exchange_gives_both_ends_matching_keys_so_each_opens_what_the_other_seals()
    {
        var (aliKeys, biancaKeys, _) = Handshake();

        Assert.Equal("Hello, how are you today?", Open(biancaKeys.Receive, Seal(aliKeys.Send, "Hello, how are you today?")));
        Assert.Equal("I am fine, how about you?", Open(aliKeys.Receive, Seal(biancaKeys.Send, "I am fine, how about you?")));

        // Each direction has its own key: a record cannot be reflected back to the side that sealed it.
        Assert.Null(Open(aliKeys.Receive, Seal(aliKeys.Send, "reflected")));
        Assert.NotEqual(aliKeys.Send.Key, aliKeys.Receive.Key);
    }

    [Fact]
    public void A_challenge_signed_by_any_key_but_the_expected_responders_is_rejected()
    {
        using var initiator = DirectHandshake.ForInitiator("ali", "bianca");
        using var responder = DirectHandshake.ForResponder(Wire(initiator.Request), "bianca")!;

        Assert.False(initiator.AcceptChallenge(Wire(responder.Challenge(_mallory)), _bianca.Public));
    }

    [Fact]
    public void A_proof_signed_by_any_key_but_the_initiators_is_rejected()
    {
        using var initiator = DirectHandshake.ForInitiator("ali", "bianca");
        using var responder = DirectHandshake.ForResponder(Wire(initiator.Request), "bianca")!;
        Assert.True(initiator.AcceptChallenge(Wire(responder.Challenge(_bianca)), _bianca.Public));

        Assert.False(responder.VerifyProof(Wire(initiator.Prove(_mallory)), _ali.Public));
        Assert.True(responder.VerifyProof(Wire(initiator.Prove(_ali)), _ali.Public));
    }

    [Fact]
    public void A_recorded_request_and_proof_replayed_to_a_fresh_responder_fail_because_its_nonce_is_new()
    {
        var (_, _, recorded) = Handshake();

        // The eavesdropper replays ali's CONNECT_REQUEST; bianca answers with a new challenge; the old proof does not fit it.
        using var fresh = DirectHandshake.ForResponder(recorded.Request, "bianca")!;
        var challenge = Wire(fresh.Challenge(_bianca));
        Assert.NotEqual(recorded.Challenge.Nonce, challenge.Nonce);
        Assert.False(fresh.VerifyProof(recorded.Proof, _ali.Public));
    }

    [Fact]
    public void A_recorded_challenge_replayed_to_a_fresh_initiator_fails()
    {
        var (_, _, recorded) = Handshake();

        using var initiator = DirectHandshake.ForInitiator("ali", "bianca");
        Assert.False(initiator.AcceptChallenge(recorded.Challenge, _bianca.Public));
    }

    [Fact]
    public void A_challenge_from_another_responder_fails_even_with_that_responders_own_valid_signature()
    {
        using var initiator = DirectHandshake.ForInitiator("ali", "bianca");

        // Mallory's terminal answers a call meant for bianca, honestly as mallory...
        using var mallory = DirectHandshake.ForResponder(Wire(initiator.Request), "mallory")!;
        var challenge = Wire(mallory.Challenge(_mallory));
        Assert.False(initiator.AcceptChallenge(challenge, _mallory.Public));

        // ...or rewriting the name to bianca's, which breaks its signature over the transcript that named mallory.
        using var again = DirectHandshake.ForInitiator("ali", "bianca");
        using var renamed = DirectHandshake.ForResponder(Wire(again.Request), "mallory")!;
        Assert.False(again.AcceptChallenge(Wire(renamed.Challenge(_mallory)) with { Responder = "bianca" }, _mallory.Public));
    }

    [Theory]
    [InlineData("bad id", null, null)]
    [InlineData("", null, null)]
    [InlineData("ali\u001b[2J", null, null)]
    [InlineData(null, "short nonce", null)]
    [InlineData(null, "long nonce", null)]
    [InlineData(null, "not base64", null)]
    [InlineData(null, null, "not on the curve")]
    [InlineData(null, null, "compressed point")]
    [InlineData(null, null, "empty")]
    public void A_malformed_request_gives_no_responder(string? initiator, string? nonce, string? point)
    {
        using var genuine = DirectHandshake.ForInitiator("ali", "bianca");
        var request = genuine.Request;
        Assert.NotNull(DirectHandshake.ForResponder(request, "bianca"));

        var onCurve = Convert.FromBase64String(request.Ephemeral);
        var malformed = request with
        {
            Initiator = initiator ?? request.Initiator,
            Nonce = nonce switch
            {
                "short nonce" => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)),
                "long nonce" => Convert.ToBase64String(RandomNumberGenerator.GetBytes(33)),
                "not base64" => "!!not base64!!",
                _ => request.Nonce,
            },
            Ephemeral = point switch
            {
                "not on the curve" => Convert.ToBase64String([0x04, .. new byte[64]]),
                "compressed point" => Convert.ToBase64String([(byte)(0x02 | (onCurve[^1] & 1)), .. onCurve.AsSpan(1, 32)]),
                "empty" => "",
                _ => request.Ephemeral,
            },
        };

        Assert.Null(DirectHandshake.ForResponder(Wire(malformed), "bianca"));
    }

    [Fact]
    public void A_challenge_with_a_malformed_key_or_nonce_is_rejected_not_thrown()
    {
        using var initiator = DirectHandshake.ForInitiator("ali", "bianca");
        using var responder = DirectHandshake.ForResponder(Wire(initiator.Request), "bianca")!;
        var challenge = Wire(responder.Challenge(_bianca));

        Assert.False(initiator.AcceptChallenge(challenge with { Ephemeral = Convert.ToBase64String([0x04, .. new byte[64]]) }, _bianca.Public));
        Assert.False(initiator.AcceptChallenge(challenge with { Nonce = Convert.ToBase64String(new byte[8]) }, _bianca.Public));
        Assert.False(initiator.AcceptChallenge(challenge with { Signature = "!!" }, _bianca.Public));
    }

    [Fact]
    public void Two_handshakes_between_the_same_users_have_different_keys()
    {
        var (first, _, _) = Handshake();
        var (second, secondResponder, _) = Handshake();

        Assert.NotEqual(first.Send.Key, second.Send.Key);
        Assert.NotEqual(first.Receive.Key, second.Receive.Key);
        Assert.Null(Open(secondResponder.Receive, Seal(first.Send, "from an earlier call")));
    }

    /// <summary>One genuine ali → bianca handshake; returns both ends' keys and the messages an eavesdropper would record.</summary>
    private ((DirectionKeys Send, DirectionKeys Receive) Initiator, (DirectionKeys Send, DirectionKeys Receive) Responder,
        (ConnectRequest Request, ConnectChallenge Challenge, ConnectProof Proof) Recorded) Handshake()
    {
        using var initiator = DirectHandshake.ForInitiator("ali", "bianca");
        var request = Wire(initiator.Request);
        using var responder = DirectHandshake.ForResponder(request, "bianca");
        Assert.NotNull(responder);
        Assert.Equal("ali", responder.InitiatorId);

        var challenge = Wire(responder.Challenge(_bianca));
        Assert.True(initiator.AcceptChallenge(challenge, _bianca.Public));
        var proof = Wire(initiator.Prove(_ali));
        Assert.True(responder.VerifyProof(proof, _ali.Public));
        return (initiator.DeriveKeys(), responder.DeriveKeys(), (request, challenge, proof));
    }

    /// <summary>Through the JSON codec and back, as the message would cross the link.</summary>
    private static T Wire<T>(T message)
        where T : ParleyMessage => Assert.IsType<T>(MessageCodec.Read(MessageCodec.ToBytes(message)));

    private static (byte[] Header, byte[] Body) Seal(DirectionKeys keys, string text)
    {
        using var sealer = new RecordCipher(keys);
        return SealedRecords.Seal(sealer, text);
    }

    private static string? Open(DirectionKeys keys, (byte[] Header, byte[] Body) record)
    {
        using var opener = new RecordCipher(keys);
        return SealedRecords.Open(opener, record);
    }
}
