using System.Security.Cryptography;
using Parley.Protocol.Messages;

namespace Parley.Protocol.Security.EndToEnd;

/// <summary>
/// The direct link's handshake (issue #6; docs/PROTOCOL.md §13.3), in the manner of SIGMA / TLS 1.3's signed
/// ephemeral Diffie-Hellman: each side sends a fresh ephemeral P-256 key and a 32-byte nonce; the responder, then the
/// initiator, signs the transcript (both IDs, both ephemerals, both nonces) with its identity key; the record keys
/// come from the ephemeral ECDH secret through HKDF, salted with the transcript's hash. So the link is mutually
/// authenticated (only the holders of the two identity keys can sign), forward-secret (the ephemerals are dropped
/// after the handshake), and a replayed CONNECT_REQUEST or CONNECT_PROOF fails: the other side's nonce is new each time.
/// </summary>
public sealed class DirectHandshake : IDisposable
{
    private const int NonceBytes = 32;
    private const int KeyBytes = 32;
    private const int IvBytes = 12;
    private static readonly byte[] TranscriptLabel = "parley v1 direct transcript"u8.ToArray();
    private static readonly byte[] ResponderLabel = "parley v1 direct responder signature"u8.ToArray();
    private static readonly byte[] InitiatorLabel = "parley v1 direct initiator signature"u8.ToArray();
    private readonly ECDiffieHellman _ephemeral = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private readonly byte[] _ownPoint;
    private readonly byte[] _ownNonce = RandomNumberGenerator.GetBytes(NonceBytes);
    private readonly bool _initiator;
    private IdentityPublicKey? _peerEphemeral;
    private byte[]? _peerNonce;

    private DirectHandshake(bool initiator, string initiatorId, string responderId)
    {
        _initiator = initiator;
        InitiatorId = initiatorId;
        ResponderId = responderId;
        _ownPoint = IdentityPublicKey.ToPoint(_ephemeral.ExportParameters(false));
    }

    public string InitiatorId { get; }

    public string ResponderId { get; }

    /// <summary>Initiator: the handshake towards <paramref name="responderId"/>; send <see cref="Request"/> first.</summary>
    public static DirectHandshake ForInitiator(string initiatorId, string responderId) => new(true, initiatorId, responderId);

    /// <summary>Responder: takes a CONNECT_REQUEST; null if its ID, key or nonce is malformed.</summary>
    public static DirectHandshake? ForResponder(ConnectRequest request, string responderId)
    {
        if (!ClientIds.IsValid(request.Initiator) || ParsePeer(request.Ephemeral, request.Nonce) is not { } peer)
        {
            return null;
        }

        return new DirectHandshake(false, request.Initiator, responderId) { _peerEphemeral = peer.Key, _peerNonce = peer.Nonce };
    }

    public ConnectRequest Request => new(InitiatorId, Convert.ToBase64String(_ownPoint), Convert.ToBase64String(_ownNonce));

    /// <summary>Responder: its ephemeral key and nonce, with its identity signature over the transcript.</summary>
    public ConnectChallenge Challenge(IdentityKey responderKey) =>
        new(ResponderId, Convert.ToBase64String(_ownPoint), Convert.ToBase64String(_ownNonce),
            Convert.ToBase64String(responderKey.Sign([.. ResponderLabel, .. Transcript()])));

    /// <summary>Initiator: takes the challenge; false unless it names the expected responder and <paramref name="responderKey"/> signed it.</summary>
    public bool AcceptChallenge(ConnectChallenge challenge, IdentityPublicKey responderKey)
    {
        if (!ClientIds.Comparer.Equals(challenge.Responder, ResponderId) || ParsePeer(challenge.Ephemeral, challenge.Nonce) is not { } peer)
        {
            return false;
        }

        _peerEphemeral = peer.Key;
        _peerNonce = peer.Nonce;
        return responderKey.Verify([.. ResponderLabel, .. Transcript()], WireBase64.DecodeOrEmpty(challenge.Signature));
    }

    /// <summary>Initiator: its identity signature over the whole transcript.</summary>
    public ConnectProof Prove(IdentityKey initiatorKey) => new(Convert.ToBase64String(initiatorKey.Sign([.. InitiatorLabel, .. Transcript()])));

    /// <summary>Responder: whether <paramref name="initiatorKey"/> signed this very transcript (so this CONNECT_REQUEST is no replay).</summary>
    public bool VerifyProof(ConnectProof proof, IdentityPublicKey initiatorKey) =>
        initiatorKey.Verify([.. InitiatorLabel, .. Transcript()], WireBase64.DecodeOrEmpty(proof.Signature));

    /// <summary>
    /// The record keys for this side: PRK = HKDF-Extract(salt = SHA-256(transcript), ikm = ECDH(ephemerals)), then
    /// "parley v1 direct i2r key|iv" and "… r2i …". Call once both ephemerals are known.
    /// </summary>
    public (DirectionKeys Send, DirectionKeys Receive) DeriveKeys()
    {
        var secret = _ephemeral.DeriveRawSecretAgreement((_peerEphemeral ?? throw new InvalidOperationException("The handshake is not complete.")).AgreePublic.PublicKey);
        var prk = HKDF.Extract(HashAlgorithmName.SHA256, secret, SHA256.HashData(Transcript()));
        CryptographicOperations.ZeroMemory(secret);
        var i2r = Derive(prk, "i2r");
        var r2i = Derive(prk, "r2i");
        CryptographicOperations.ZeroMemory(prk);
        return _initiator ? (i2r, r2i) : (r2i, i2r);
    }

    public void Dispose()
    {
        _ephemeral.Dispose();
        _peerEphemeral?.Dispose();
    }

    /// <summary>"parley v1 direct transcript" ‖ len ‖ initiator ‖ len ‖ responder (lower case) ‖ initiator's ephemeral ‖ nonce ‖ responder's ephemeral ‖ nonce.</summary>
    private byte[] Transcript()
    {
        var peerPoint = _peerEphemeral?.AgreeKey ?? throw new InvalidOperationException("The handshake is not complete.");
        var (iPoint, iNonce, rPoint, rNonce) = _initiator ? (_ownPoint, _ownNonce, peerPoint, _peerNonce!) : (peerPoint, _peerNonce!, _ownPoint, _ownNonce);
        return
        [
            .. TranscriptLabel,
            .. IdentityPublicKey.LengthPrefixed(InitiatorId.ToLowerInvariant()),
            .. IdentityPublicKey.LengthPrefixed(ResponderId.ToLowerInvariant()),
            .. iPoint, .. iNonce, .. rPoint, .. rNonce,
        ];
    }

    private static DirectionKeys Derive(byte[] prk, string direction) => new(
        HKDF.Expand(HashAlgorithmName.SHA256, prk, KeyBytes, System.Text.Encoding.ASCII.GetBytes($"parley v1 direct {direction} key")),
        HKDF.Expand(HashAlgorithmName.SHA256, prk, IvBytes, System.Text.Encoding.ASCII.GetBytes($"parley v1 direct {direction} iv")));

    /// <summary>An ephemeral point (parsed as the agree half of a throwaway <see cref="IdentityPublicKey"/>) and a nonce; null if either is malformed.</summary>
    private static (IdentityPublicKey Key, byte[] Nonce)? ParsePeer(string ephemeral, string nonce)
    {
        var point = WireBase64.DecodeOrEmpty(ephemeral);
        var nonceBytes = WireBase64.DecodeOrEmpty(nonce);
        return nonceBytes.Length == NonceBytes && IdentityPublicKey.TryCreate(point, point) is { } key ? (key, nonceBytes) : null;
    }
}
