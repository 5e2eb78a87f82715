using System.Security.Cryptography;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;

namespace Parley.Client;

/// <summary>
/// The client's half of the SCRAM-SHA-256 + ECDHE exchange (docs/PROTOCOL.md §3) as three steps, with no transport:
/// <see cref="Hello"/>, then <see cref="Answer"/> to the CHALLENGE, then <see cref="Verify"/> the AUTH_SUCCESS.
/// <see cref="UdpLogOn"/> wraps it in retransmitting UDP; tests drive it by hand to send wrong things on purpose.
/// </summary>
internal sealed class ScramClient : IDisposable
{
    private readonly PasswordKey _password;
    private readonly bool _ownsPassword;
    private readonly EcdhKey _ephemeral = new();
    private Challenge? _challenge;
    private byte[]? _authMessage;
    private byte[]? _clientKey;
    private byte[]? _serverKey;

    public ScramClient(string clientId, string password)
        : this(clientId, new PasswordKey(password), ownsPassword: true)
    {
    }

    public ScramClient(string clientId, PasswordKey password, bool ownsPassword = false)
    {
        _password = password;
        _ownsPassword = ownsPassword;
        Hello = new Hello(clientId, Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)), _ephemeral.PublicKeyBase64);
    }

    public Hello Hello { get; }

    /// <summary>True for the CHALLENGE that answers our HELLO (its rand extends our nonce, RFC 5802 §5.1 r=).</summary>
    public bool IsOurs(Challenge challenge) =>
        challenge.Rand.StartsWith(Hello.Nonce, StringComparison.Ordinal) && challenge.Rand.Length > Hello.Nonce.Length;

    /// <summary>Pays the PBKDF2 cost and builds the RESPONSE carrying ClientProof.</summary>
    public Response Answer(Challenge challenge, int maxIterations = int.MaxValue)
    {
        if (challenge.Iterations < Scram.MinimumIterations)
        {
            throw new ParleyClientException(ClientFailure.ServerNotAuthentic, "The server asked for a weak password hash; refusing to log on.");
        }

        if (challenge.Iterations > maxIterations)
        {
            throw new ParleyClientException(ClientFailure.ServerNotAuthentic,
                $"The server asked for {challenge.Iterations} PBKDF2 iterations, more than the {maxIterations} this client allows; refusing to log on.");
        }

        var salt = WireBase64.DecodeOrEmpty(challenge.Salt);
        if (salt.Length is < 8 or > 64)
        {
            throw new ParleyClientException(ClientFailure.ServerNotAuthentic, "The server's CHALLENGE has no valid salt; refusing to log on.");
        }

        _challenge = challenge;
        _authMessage = AuthTranscript.AuthMessage(Hello.ClientId, Hello.Nonce, Hello.EphemeralKey,
            challenge.Rand, challenge.Salt, challenge.Iterations, challenge.EphemeralKey);
        var salted = _password.SaltedPassword(salt, challenge.Iterations);
        _clientKey = Scram.ClientKey(salted);
        _serverKey = Scram.ServerKey(salted);
        CryptographicOperations.ZeroMemory(salted);
        return new Response(Hello.ClientId, challenge.Rand, Convert.ToBase64String(Scram.ClientProof(_clientKey, _authMessage)));
    }

    /// <summary>Checks ServerSignature (mutual authentication), derives CK_A and opens the sealed ticket.</summary>
    public (AuthTicket Ticket, DirectionKeys ClientToServer, DirectionKeys ServerToClient) Verify(AuthSuccess success)
    {
        if (_challenge is null || _authMessage is null || _clientKey is null || _serverKey is null)
        {
            throw new InvalidOperationException("Answer the challenge first.");
        }

        var expected = Scram.ServerSignature(_serverKey, _authMessage);
        var ecdh = _ephemeral.Agree(_challenge.EphemeralKey);
        if (ecdh is null || !CryptographicOperations.FixedTimeEquals(expected, WireBase64.DecodeOrEmpty(success.ServerSignature)))
        {
            throw new ParleyClientException(ClientFailure.ServerNotAuthentic, "The server could not prove it knows your account; refusing to continue.");
        }

        using var schedule = new KeySchedule(ecdh, _clientKey, _authMessage);
        CryptographicOperations.ZeroMemory(ecdh);
        var ticket = TicketBox.Open(schedule.AuthSuccess, success.Sealed)
            ?? throw new ParleyClientException(ClientFailure.ServerNotAuthentic, "The server's AUTH_SUCCESS could not be decrypted with CK_A; refusing to continue.");
        return (ticket, schedule.ClientToServer, schedule.ServerToClient);
    }

    public void Dispose()
    {
        _ephemeral.Dispose();
        if (_ownsPassword)
        {
            _password.Dispose();
        }

        if (_clientKey is not null)
        {
            CryptographicOperations.ZeroMemory(_clientKey);
        }
    }
}
