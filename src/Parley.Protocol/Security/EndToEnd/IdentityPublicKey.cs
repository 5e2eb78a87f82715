using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Parley.Protocol.Security.EndToEnd;

/// <summary>
/// A user's public identity (issue #5; docs/PROTOCOL.md §12.1): an ECDH P-256 key that messages are encrypted to and
/// an ECDSA P-256 key that signs what the user sends, each the 65-byte uncompressed point. P-256 because .NET offers
/// neither X25519 nor Ed25519 on every platform and no other crypto package is allowed. The
/// <see cref="Fingerprint"/> names the pair in envelopes and key lists.
/// </summary>
public sealed class IdentityPublicKey : IDisposable
{
    internal const int PointBytes = 65;
    internal const int FingerprintBytes = 16;
    private static readonly byte[] FingerprintLabel = "parley v1 identity fingerprint"u8.ToArray();
    private static readonly byte[] BundleLabel = "parley v1 identity bundle"u8.ToArray();
    private readonly ECDsa _verifier;

    private IdentityPublicKey(byte[] agreeKey, byte[] signKey, ECDiffieHellman agree, ECDsa verifier)
    {
        AgreeKey = agreeKey;
        SignKey = signKey;
        AgreePublic = agree;
        _verifier = verifier;
        var hash = SHA256.HashData([.. FingerprintLabel, .. agreeKey, .. signKey]);
        FingerprintBytesValue = hash[..FingerprintBytes];
        Fingerprint = Convert.ToHexStringLower(FingerprintBytesValue);
    }

    /// <summary>The ECDH point (uncompressed, 65 bytes).</summary>
    public byte[] AgreeKey { get; }

    /// <summary>The ECDSA point (uncompressed, 65 bytes).</summary>
    public byte[] SignKey { get; }

    /// <summary>The first 16 bytes of SHA-256("parley v1 identity fingerprint" ‖ agree ‖ sign), as 32 lowercase hex digits.</summary>
    public string Fingerprint { get; }

    internal byte[] FingerprintBytesValue { get; }

    internal ECDiffieHellman AgreePublic { get; }

    public string AgreeKeyBase64 => Convert.ToBase64String(AgreeKey);

    public string SignKeyBase64 => Convert.ToBase64String(SignKey);

    /// <summary>Parses two base64 points; null unless both are valid P-256 public keys.</summary>
    public static IdentityPublicKey? TryParse(string? agreeKeyBase64, string? signKeyBase64)
    {
        var agree = WireBase64.DecodeOrEmpty(agreeKeyBase64 ?? "");
        var sign = WireBase64.DecodeOrEmpty(signKeyBase64 ?? "");
        return TryCreate(agree, sign);
    }

    internal static IdentityPublicKey? TryCreate(byte[] agreeKey, byte[] signKey)
    {
        if (ToParameters(agreeKey) is not { } agreeParameters || ToParameters(signKey) is not { } signParameters)
        {
            return null;
        }

        ECDiffieHellman? agree = null;
        ECDsa? sign = null;
        try
        {
            agree = ECDiffieHellman.Create(agreeParameters);
            sign = ECDsa.Create(signParameters);
            return new IdentityPublicKey(agreeKey, signKey, agree, sign);
        }
        catch (CryptographicException)
        {
            agree?.Dispose();
            sign?.Dispose();
            return null; // a point not on the curve
        }
    }

    /// <summary>
    /// The bytes a user's self-signature covers: "parley v1 identity bundle" ‖ len ‖ lower-case ID ‖ agree ‖ sign.
    /// Binding the ID means a key published for alice cannot be passed off as carol's.
    /// </summary>
    public byte[] BundleBytes(string clientId) => [.. BundleLabel, .. LengthPrefixed(clientId.ToLowerInvariant()), .. AgreeKey, .. SignKey];

    /// <summary>Whether <paramref name="signatureBase64"/> is this key's own signature over <see cref="BundleBytes"/>.</summary>
    public bool VerifyBundle(string clientId, string? signatureBase64) => Verify(BundleBytes(clientId), WireBase64.DecodeOrEmpty(signatureBase64 ?? ""));

    /// <summary>ECDSA P-256 with SHA-256, signature as r ‖ s (IEEE P1363, 64 bytes).</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        signature.Length == 64 && _verifier.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public void Dispose()
    {
        AgreePublic.Dispose();
        _verifier.Dispose();
    }

    internal static byte[] LengthPrefixed(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var result = new byte[2 + bytes.Length];
        BinaryPrimitives.WriteUInt16BigEndian(result, checked((ushort)bytes.Length));
        bytes.CopyTo(result, 2);
        return result;
    }

    internal static byte[] ToPoint(ECParameters parameters)
    {
        var point = new byte[PointBytes];
        point[0] = 0x04;
        parameters.Q.X!.CopyTo(point, 1);
        parameters.Q.Y!.CopyTo(point, 33);
        return point;
    }

    private static ECParameters? ToParameters(byte[] point) => point.Length == PointBytes && point[0] == 0x04
        ? new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = point[1..33], Y = point[33..] },
        }
        : null;
}
