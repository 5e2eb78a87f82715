using System.Security.Cryptography;

namespace Parley.Protocol.Security;

/// <summary>An ephemeral ECDH P-256 key pair for one log-on. The public key travels as the uncompressed point (65 bytes).</summary>
public sealed class EphemeralKey : IDisposable
{
    private const int PointBytes = 65;
    private readonly ECDiffieHellman _ecdh = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

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
