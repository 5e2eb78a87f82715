using System.Security.Cryptography;

namespace Parley.Protocol.Security;

/// <summary>
/// An ECDH P-256 key pair. Most are ephemeral (one per log-on or sign-up); the server's sign-up key is the one
/// long-term key, kept in its database as PKCS#8. The public key travels as the uncompressed point (65 bytes).
/// </summary>
public sealed class EcdhKey : IDisposable
{
    private const int PointBytes = 65;
    private readonly ECDiffieHellman _ecdh;

    public EcdhKey() => _ecdh = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

    private EcdhKey(ECDiffieHellman ecdh) => _ecdh = ecdh;

    public string PublicKeyBase64
    {
        get
        {
            var p = _ecdh.ExportParameters(false).Q;
            var point = new byte[PointBytes];
            point[0] = 0x04;
            p.X!.CopyTo(point, 1);
            p.Y!.CopyTo(point, 33);
            return Convert.ToBase64String(point);
        }
    }

    /// <summary>Loads a key saved with <see cref="ExportPkcs8"/>.</summary>
    public static EcdhKey ImportPkcs8(ReadOnlySpan<byte> pkcs8)
    {
        var ecdh = ECDiffieHellman.Create();
        ecdh.ImportPkcs8PrivateKey(pkcs8, out _);
        return new EcdhKey(ecdh);
    }

    public byte[] ExportPkcs8() => _ecdh.ExportPkcs8PrivateKey();

    /// <summary>The raw shared secret (the x-coordinate), or null when the peer's key is not a valid P-256 point.</summary>
    public byte[]? Agree(string peerPublicKeyBase64)
    {
        Span<byte> point = stackalloc byte[PointBytes];
        if (!Convert.TryFromBase64String(peerPublicKeyBase64, point, out var written) || written != PointBytes || point[0] != 0x04)
        {
            return null;
        }

        try
        {
            using var peer = ECDiffieHellman.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = point[1..33].ToArray(), Y = point[33..].ToArray() },
            });
            return _ecdh.DeriveRawSecretAgreement(peer.PublicKey);
        }
        catch (CryptographicException)
        {
            return null; // not on the curve
        }
    }

    public void Dispose() => _ecdh.Dispose();
}
