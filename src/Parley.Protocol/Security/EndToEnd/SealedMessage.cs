using System.Security.Cryptography;
using System.Text;

namespace Parley.Protocol.Security.EndToEnd;

/// <summary>What a 1:1 message is: a session CHAT (seed 001) or a DM (issue #4). Part of what the signature binds.</summary>
public enum MessageKind : byte
{
    Chat = 1,
    Dm = 2,
}

/// <summary>
/// Where a message belongs, bound into its authenticated data and signature so the server cannot re-address it:
/// the kind, the sender and recipient IDs (compared in lower case), and the conversation (the CHAT session ID; empty for DMs).
/// </summary>
public sealed record MessageContext(MessageKind Kind, string From, string To, string Conversation)
{
    /// <summary>Longest conversation (session ID) a context may carry; the server's are 8 hex digits.</summary>
    public const int MaxConversationLength = 128;

    /// <summary>
    /// Whether the parts can be encoded: valid client IDs and a short conversation. They come partly from the server,
    /// which must not be able to crash a client with a 70,000-character session ID.
    /// </summary>
    public bool IsWellFormed => ClientIds.IsValid(From) && ClientIds.IsValid(To) && Conversation.Length <= MaxConversationLength;

    internal byte[] ToBytes() =>
    [
        .. "parley v1 e2e context"u8, (byte)Kind,
        .. IdentityPublicKey.LengthPrefixed(From.ToLowerInvariant()),
        .. IdentityPublicKey.LengthPrefixed(To.ToLowerInvariant()),
        .. IdentityPublicKey.LengthPrefixed(Conversation),
    ];
}

/// <summary>
/// The end-to-end envelope of one CHAT or DM body (issue #5; docs/PROTOCOL.md §12.3), in the shape of HPKE's base
/// mode (RFC 9180) with the sender authenticated by signature:
/// a fresh content key CEK encrypts the text with AES-256-GCM; one ephemeral ECDH P-256 key agrees a key-encryption
/// key (HKDF-SHA256, salt = message ID) with the recipient's identity key and another with the sender's own, and each
/// wraps the CEK, so the sender reads their history back too; the sender's ECDSA identity key signs everything,
/// with the <see cref="MessageContext"/> bound in. The server stores and relays the result as opaque text.
/// </summary>
/// <remarks>
/// Layout, then base64 after the prefix "e2e1:": version (1) ‖ kind (1) ‖ message ID (16) ‖ sender fingerprint (16)
/// ‖ recipient fingerprint (16) ‖ ephemeral point (65) ‖ recipient wrap (48) ‖ sender wrap (48) ‖ nonce (12) ‖
/// ciphertext and tag (n + 16) ‖ signature (64).
/// </remarks>
public sealed class SealedMessage
{
    public const string Prefix = "e2e1:";
    private const byte Version = 1;
    private const int IdBytes = 16;
    private const int KeyBytes = 32;
    private const int WrapBytes = KeyBytes + TagBytes;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private const int SignatureBytes = 64;
    private const int FingerprintBytes = IdentityPublicKey.FingerprintBytes;
    private const int EphemeralOffset = 2 + IdBytes + 2 * FingerprintBytes;
    private const int RecipientWrapOffset = EphemeralOffset + IdentityPublicKey.PointBytes;
    private const int SenderWrapOffset = RecipientWrapOffset + WrapBytes;
    private const int NonceOffset = SenderWrapOffset + WrapBytes;
    private const int CiphertextOffset = NonceOffset + NonceBytes;

    /// <summary>Bytes an envelope adds to the UTF-8 text before base64.</summary>
    public const int OverheadBytes = CiphertextOffset + TagBytes + SignatureBytes;

    private static readonly byte[] WrapInfo = "parley v1 e2e wrap"u8.ToArray();
    private static readonly byte[] SignatureLabel = "parley v1 e2e signature"u8.ToArray();
    private readonly byte[] _raw;

    private SealedMessage(byte[] raw)
    {
        _raw = raw;
        Kind = (MessageKind)raw[1];
        MessageId = Convert.ToHexStringLower(raw.AsSpan(2, IdBytes));
        SenderFingerprint = Convert.ToHexStringLower(raw.AsSpan(2 + IdBytes, FingerprintBytes));
        RecipientFingerprint = Convert.ToHexStringLower(raw.AsSpan(2 + IdBytes + FingerprintBytes, FingerprintBytes));
    }

    public MessageKind Kind { get; }

    /// <summary>The sender's random 128-bit ID for this message (hex): a replayed copy carries the same one.</summary>
    public string MessageId { get; }

    /// <summary>Which of the sender's identity keys signed it.</summary>
    public string SenderFingerprint { get; }

    /// <summary>Which of the recipient's identity keys it is encrypted to.</summary>
    public string RecipientFingerprint { get; }

    /// <summary>The longest UTF-8 text whose envelope fits a server limit of <paramref name="wireLimitBytes"/>.</summary>
    public static int MaxTextBytes(int wireLimitBytes) => Math.Max(0, (wireLimitBytes - Prefix.Length) / 4 * 3 - OverheadBytes);

    /// <summary>Whether a stored or relayed body looks like an envelope at all (plain text from an older client does not).</summary>
    public static bool IsEnvelope(string body) => body.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Encrypts and signs <paramref name="text"/> from <paramref name="sender"/> to <paramref name="recipient"/>.</summary>
    public static string Seal(IdentityKey sender, IdentityPublicKey recipient, MessageContext context, string text)
    {
        var plain = Encoding.UTF8.GetBytes(text);
        var raw = new byte[OverheadBytes + plain.Length];
        raw[0] = Version;
        raw[1] = (byte)context.Kind;
        RandomNumberGenerator.Fill(raw.AsSpan(2, IdBytes));
        sender.Public.FingerprintBytesValue.CopyTo(raw, 2 + IdBytes);
        recipient.FingerprintBytesValue.CopyTo(raw, 2 + IdBytes + FingerprintBytes);
        var contextBytes = context.ToBytes();
        var cek = RandomNumberGenerator.GetBytes(KeyBytes);
        try
        {
            using (var ephemeral = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256))
            {
                IdentityPublicKey.ToPoint(ephemeral.ExportParameters(false)).CopyTo(raw, EphemeralOffset);
                Wrap(ephemeral.DeriveRawSecretAgreement(recipient.AgreePublic.PublicKey), raw, WrapRole.Recipient, recipient.AgreeKey, contextBytes, cek);
                Wrap(ephemeral.DeriveRawSecretAgreement(sender.Public.AgreePublic.PublicKey), raw, WrapRole.Sender, sender.Public.AgreeKey, contextBytes, cek);
            }

            RandomNumberGenerator.Fill(raw.AsSpan(NonceOffset, NonceBytes));
            using var aes = new AesGcm(cek, TagBytes);
            aes.Encrypt(raw.AsSpan(NonceOffset, NonceBytes), plain, raw.AsSpan(CiphertextOffset, plain.Length),
                raw.AsSpan(CiphertextOffset + plain.Length, TagBytes), [.. contextBytes, .. raw.AsSpan(0, NonceOffset)]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(cek);
            CryptographicOperations.ZeroMemory(plain);
        }

        var signed = raw.Length - SignatureBytes;
        sender.Sign(SignedBytes(contextBytes, raw.AsSpan(0, signed))).CopyTo(raw, signed);
        return Prefix + Convert.ToBase64String(raw);
    }

    /// <summary>Parses an envelope's fixed fields without checking anything cryptographic; null if it is not a well-formed envelope.</summary>
    public static SealedMessage? TryParse(string? body)
    {
        if (body is null || !IsEnvelope(body))
        {
            return null;
        }

        var raw = WireBase64.DecodeOrEmpty(body[Prefix.Length..]);
        return raw.Length >= OverheadBytes && raw[0] == Version && Enum.IsDefined((MessageKind)raw[1]) ? new SealedMessage(raw) : null;
    }

    /// <summary>
    /// Verifies and decrypts, as the recipient or as the sender reading their own copy. <paramref name="senderKey"/> must
    /// be the key named by <see cref="SenderFingerprint"/>; <paramref name="context"/> is where the server says the
    /// message belongs. Anything altered, re-addressed or not for <paramref name="me"/> fails; the text is then null.
    /// </summary>
    public OpenResult Open(IdentityKey me, IdentityPublicKey senderKey, MessageContext context, bool meIsSender)
    {
        if (context.Kind != Kind || senderKey.Fingerprint != SenderFingerprint)
        {
            return OpenResult.Fail(OpenFailure.NotAuthentic);
        }

        var contextBytes = context.ToBytes();
        var signed = _raw.Length - SignatureBytes;
        if (!senderKey.Verify(SignedBytes(contextBytes, _raw.AsSpan(0, signed)), _raw.AsSpan(signed)))
        {
            return OpenResult.Fail(OpenFailure.NotAuthentic);
        }

        if ((meIsSender ? SenderFingerprint : RecipientFingerprint) != me.Public.Fingerprint)
        {
            return OpenResult.Fail(OpenFailure.OtherKey);
        }

        var ephemeral = IdentityPublicKey.TryCreate(_raw[EphemeralOffset..RecipientWrapOffset], senderKey.AgreeKey);
        if (ephemeral is null)
        {
            return OpenResult.Fail(OpenFailure.NotAuthentic);
        }

        byte[]? cek = null;
        var plain = new byte[_raw.Length - OverheadBytes];
        try
        {
            using (ephemeral)
            {
                var role = meIsSender ? WrapRole.Sender : WrapRole.Recipient;
                cek = Unwrap(me.Agree(ephemeral.AgreePublic.PublicKey), _raw, role, me.Public.AgreeKey, contextBytes);
            }

            using var aes = new AesGcm(cek, TagBytes);
            aes.Decrypt(_raw.AsSpan(NonceOffset, NonceBytes), _raw.AsSpan(CiphertextOffset, plain.Length),
                _raw.AsSpan(CiphertextOffset + plain.Length, TagBytes), plain, [.. contextBytes, .. _raw.AsSpan(0, NonceOffset)]);
            return OpenResult.Success(Encoding.UTF8.GetString(plain));
        }
        catch (AuthenticationTagMismatchException)
        {
            return OpenResult.Fail(OpenFailure.NotAuthentic);
        }
        finally
        {
            if (cek is not null)
            {
                CryptographicOperations.ZeroMemory(cek);
            }

            CryptographicOperations.ZeroMemory(plain);
        }
    }

    private enum WrapRole : byte
    {
        Recipient = 1,
        Sender = 2,
    }

    private static byte[] SignedBytes(byte[] contextBytes, ReadOnlySpan<byte> envelope) => [.. SignatureLabel, .. contextBytes, .. envelope];

    /// <summary>KEK = HKDF-SHA256(ikm = ECDH secret, salt = message ID, info = "parley v1 e2e wrap" ‖ role ‖ ephemeral ‖ holder's agree key).</summary>
    private static byte[] KeyEncryptionKey(byte[] secret, byte[] raw, WrapRole role, byte[] holderAgreeKey)
    {
        byte[] info = [.. WrapInfo, (byte)role, .. raw.AsSpan(EphemeralOffset, IdentityPublicKey.PointBytes), .. holderAgreeKey];
        var kek = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, KeyBytes, raw.AsSpan(2, IdBytes).ToArray(), info);
        CryptographicOperations.ZeroMemory(secret);
        return kek;
    }

    /// <summary>The wrap's associated data: the context and the envelope up to the recipient wrap (the ephemeral key included); its nonce is zero, as each KEK seals one CEK.</summary>
    private static byte[] WrapAad(byte[] contextBytes, byte[] raw) => [.. contextBytes, .. raw.AsSpan(0, RecipientWrapOffset)];

    private static void Wrap(byte[] secret, byte[] raw, WrapRole role, byte[] holderAgreeKey, byte[] contextBytes, byte[] cek)
    {
        var kek = KeyEncryptionKey(secret, raw, role, holderAgreeKey);
        var offset = role == WrapRole.Recipient ? RecipientWrapOffset : SenderWrapOffset;
        using var aes = new AesGcm(kek, TagBytes);
        aes.Encrypt(stackalloc byte[NonceBytes], cek, raw.AsSpan(offset, KeyBytes), raw.AsSpan(offset + KeyBytes, TagBytes), WrapAad(contextBytes, raw));
        CryptographicOperations.ZeroMemory(kek);
    }

    private static byte[] Unwrap(byte[] secret, byte[] raw, WrapRole role, byte[] holderAgreeKey, byte[] contextBytes)
    {
        var kek = KeyEncryptionKey(secret, raw, role, holderAgreeKey);
        var offset = role == WrapRole.Recipient ? RecipientWrapOffset : SenderWrapOffset;
        var cek = new byte[KeyBytes];
        try
        {
            using var aes = new AesGcm(kek, TagBytes);
            aes.Decrypt(stackalloc byte[NonceBytes], raw.AsSpan(offset, KeyBytes), raw.AsSpan(offset + KeyBytes, TagBytes), cek, WrapAad(contextBytes, raw));
            return cek;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }
    }
}

/// <summary>Why an envelope did not open.</summary>
public enum OpenFailure
{
    None,

    /// <summary>The signature, a tag or the context does not verify: altered, re-addressed, or not from the claimed sender.</summary>
    NotAuthentic,

    /// <summary>Authentic, but encrypted to an identity key this client no longer has (the user's keys were replaced).</summary>
    OtherKey,
}

/// <summary>The text of an opened envelope, or why it did not open.</summary>
public sealed record OpenResult(string? Text, OpenFailure Failure)
{
    internal static OpenResult Success(string text) => new(text, OpenFailure.None);

    internal static OpenResult Fail(OpenFailure failure) => new(null, failure);
}
