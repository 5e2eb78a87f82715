using System.Security.Cryptography;

namespace Parley.Protocol.Security.EndToEnd;

/// <summary>
/// A user's identity key pair (issue #5): the private halves of <see cref="IdentityPublicKey"/>. Made on the client
/// at its first log-on and never sent anywhere except inside a <see cref="KeyBackup"/> box the server cannot open.
/// </summary>
public sealed class IdentityKey : IDisposable
{
    internal const int ScalarBytes = 32;
    private readonly ECDiffieHellman _agree;
    private readonly ECDsa _sign;

    private IdentityKey(ECDiffieHellman agree, ECDsa sign)
    {
        _agree = agree;
        _sign = sign;
        Public = IdentityPublicKey.TryCreate(
            IdentityPublicKey.ToPoint(agree.ExportParameters(false)), IdentityPublicKey.ToPoint(sign.ExportParameters(false)))
            ?? throw new CryptographicException("A new P-256 key did not round-trip.");
    }

    public IdentityPublicKey Public { get; }

    public static IdentityKey Create() =>
        new(ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256), ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>Rebuilds a pair from its two 32-byte private scalars (the backup's plaintext); null if either is invalid.</summary>
    internal static IdentityKey? FromScalars(ReadOnlySpan<byte> agreeScalar, ReadOnlySpan<byte> signScalar)
    {
        ECDiffieHellman? agree = null;
        ECDsa? sign = null;
        try
        {
            agree = ECDiffieHellman.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = agreeScalar.ToArray() });
            sign = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = signScalar.ToArray() });
            return new IdentityKey(agree, sign);
        }
        catch (CryptographicException)
        {
            agree?.Dispose();
            sign?.Dispose();
            return null;
        }
    }

    /// <summary>The two private scalars, agree then sign (64 bytes). The caller must zero them.</summary>
    internal byte[] ExportScalars()
    {
        var a = _agree.ExportParameters(true).D!;
        var s = _sign.ExportParameters(true).D!;
        byte[] result = [.. a, .. s];
        CryptographicOperations.ZeroMemory(a);
        CryptographicOperations.ZeroMemory(s);
        return result;
    }

    /// <summary>The self-signature published with the public keys (see <see cref="IdentityPublicKey.BundleBytes"/>).</summary>
    public string SignBundle(string clientId) => Convert.ToBase64String(Sign(Public.BundleBytes(clientId)));

    internal byte[] Sign(ReadOnlySpan<byte> data) =>
        _sign.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    /// <summary>The raw ECDH shared secret with <paramref name="peer"/> (the x-coordinate, 32 bytes).</summary>
    internal byte[] Agree(ECDiffieHellmanPublicKey peer) => _agree.DeriveRawSecretAgreement(peer);

    public void Dispose()
    {
        _agree.Dispose();
        _sign.Dispose();
        Public.Dispose();
    }
}
