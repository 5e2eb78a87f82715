using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Parley.Protocol.Messages;

namespace Parley.Protocol.Security;

/// <summary>
/// Seals a SIGNUP to the server's long-term sign-up key, in the manner of HPKE base mode (RFC 9180): a fresh client
/// ECDH P-256 key, HKDF-SHA256 over the shared secret with both public keys in the salt, and AES-256-GCM. Only the
/// holder of the server's private key reads the verifiers, so an eavesdropper cannot run a dictionary attack on
/// them. The reply is sealed under the same one-time secret, so only the asking client reads it.
/// Each box carries a random 96-bit nonce: a retransmitted request may get a different answer under the same key.
/// </summary>
public sealed class SignUpBox
{
    private const int KeyBytes = 32;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private static readonly byte[] FormAad = "parley v1 SIGNUP"u8.ToArray();
    private static readonly byte[] OutcomeAad = "parley v1 SIGNUP_RESULT"u8.ToArray();
    private readonly byte[] _clientToServer;
    private readonly byte[] _serverToClient;

    private SignUpBox(byte[] sharedSecret, string clientKey, string serverKey)
    {
        var salt = SHA256.HashData(Encoding.ASCII.GetBytes($"parley v1 signup|{clientKey}|{serverKey}"));
        var prk = HKDF.Extract(HashAlgorithmName.SHA256, sharedSecret, salt);
        _clientToServer = HKDF.Expand(HashAlgorithmName.SHA256, prk, KeyBytes, "parley v1 signup c2s key"u8.ToArray());
        _serverToClient = HKDF.Expand(HashAlgorithmName.SHA256, prk, KeyBytes, "parley v1 signup s2c key"u8.ToArray());
        CryptographicOperations.ZeroMemory(prk);
        CryptographicOperations.ZeroMemory(sharedSecret);
    }

    /// <summary>Client side: agrees <paramref name="ephemeral"/> with the server's key; null if that key is not a P-256 point.</summary>
    public static SignUpBox? ForClient(EcdhKey ephemeral, string serverKey) =>
        ephemeral.Agree(serverKey) is { } secret ? new SignUpBox(secret, ephemeral.PublicKeyBase64, serverKey) : null;

    /// <summary>Server side: agrees its sign-up key with the client's; null if the client's key is not a P-256 point.</summary>
    public static SignUpBox? ForServer(EcdhKey signUpKey, string clientKey) =>
        signUpKey.Agree(clientKey) is { } secret ? new SignUpBox(secret, clientKey, signUpKey.PublicKeyBase64) : null;

    public string SealForm(SignUpForm form) =>
        Seal(_clientToServer, JsonSerializer.SerializeToUtf8Bytes(form, ParleyJsonContext.Default.SignUpForm), FormAad);

    public SignUpForm? OpenForm(string sealedBase64) =>
        Open(_clientToServer, sealedBase64, FormAad, static json => JsonSerializer.Deserialize(json, ParleyJsonContext.Default.SignUpForm));

    public string SealOutcome(SignUpOutcome outcome) =>
        Seal(_serverToClient, JsonSerializer.SerializeToUtf8Bytes(outcome, ParleyJsonContext.Default.SignUpOutcome), OutcomeAad);

    public SignUpOutcome? OpenOutcome(string sealedBase64) =>
        Open(_serverToClient, sealedBase64, OutcomeAad, static json => JsonSerializer.Deserialize(json, ParleyJsonContext.Default.SignUpOutcome));

    private static string Seal(byte[] key, byte[] plain, byte[] aad)
    {
        var box = new byte[NonceBytes + plain.Length + TagBytes];
        RandomNumberGenerator.Fill(box.AsSpan(0, NonceBytes));
        using var aes = new AesGcm(key, TagBytes);
        aes.Encrypt(box.AsSpan(0, NonceBytes), plain, box.AsSpan(NonceBytes, plain.Length), box.AsSpan(NonceBytes + plain.Length), aad);
        CryptographicOperations.ZeroMemory(plain);
        return Convert.ToBase64String(box);
    }

    private static T? Open<T>(byte[] key, string sealedBase64, byte[] aad, Func<byte[], T?> parse)
        where T : class
    {
        var box = WireBase64.DecodeOrEmpty(sealedBase64);
        if (box.Length < NonceBytes + TagBytes)
        {
            return null;
        }

        var plain = new byte[box.Length - NonceBytes - TagBytes];
        try
        {
            using var aes = new AesGcm(key, TagBytes);
            aes.Decrypt(box.AsSpan(0, NonceBytes), box.AsSpan(NonceBytes, plain.Length), box.AsSpan(NonceBytes + plain.Length), plain, aad);
            return parse(plain);
        }
        catch (Exception e) when (e is AuthenticationTagMismatchException or JsonException)
        {
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }
}
