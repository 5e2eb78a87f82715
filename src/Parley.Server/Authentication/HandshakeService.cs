using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Storage;

namespace Parley.Server.Authentication;

/// <summary>
/// The server side of seed 001's connection phase over UDP: HELLO → CHALLENGE → RESPONSE → AUTH_SUCCESS | AUTH_FAIL.
/// A fresh rand per CHALLENGE; one evaluated RESPONSE per rand (a retransmitted identical RESPONSE gets the same
/// reply again, nothing is re-evaluated); unanswered challenges expire. Unknown IDs get a challenge with a stable
/// fake salt and fail exactly like a wrong password, so AUTH_FAIL does not reveal which IDs exist.
/// Thread-safe: the UDP listener calls <see cref="Handle"/> from several receive loops.
/// </summary>
internal sealed class HandshakeService(
    ParleyServerOptions options, UserStore users, CookieJar cookies, byte[] serverSecret, TimeProvider time,
    ILogger<HandshakeService> logger)
{
    private const int NonceBytes = 18;
    private const int AmplificationFactor = 3;
    private const string FailText = "Log-on failed: unknown client ID or wrong password.";
    private static readonly byte[] DummyStoredKey = new byte[Scram.KeyBytes];

    private readonly ConcurrentDictionary<string, PendingChallenge> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Answered> _answered = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<IPAddress, int> _pendingPerAddress = new();

    /// <summary>The TCP port announced as port_number; set once the TCP listener is bound.</summary>
    public int TcpPort { get; set; }

    /// <summary>
    /// Answers one datagram; null means send nothing. UDP sources can be forged, so no answer is more than three
    /// times the size of what provoked it (the anti-amplification limit of QUIC, RFC 9000 §8): a tiny junk
    /// datagram is dropped rather than answered with a longer ERROR aimed at a spoofed victim.
    /// </summary>
    public byte[]? Handle(ReadOnlySpan<byte> datagram, IPEndPoint source)
    {
        var reply = Answer(datagram, source);
        if (reply is not null && reply.Length > AmplificationFactor * datagram.Length)
        {
            logger.LogInformation("Dropped the reply to a {Bytes}-byte datagram from {Source} (amplification limit)", datagram.Length, source);
            return null;
        }

        return reply;
    }

    private byte[]? Answer(ReadOnlySpan<byte> datagram, IPEndPoint source)
    {
        ParleyMessage message;
        try
        {
            message = MessageCodec.Read(datagram);
        }
        catch (ProtocolException e)
        {
            logger.LogInformation("Rejected datagram from {Source}: {Code}", source, e.Code);
            return Reply(new Error(e.Code, e.Message));
        }

        return message switch
        {
            Hello hello => OnHello(hello, source.Address),
            Response response => OnResponse(response),
            _ => Reply(new Error(ErrorCodes.NotAllowed, "Only HELLO and RESPONSE are accepted over UDP.")),
        };
    }

    /// <summary>Forgets expired challenges and cached answers; called by the server's maintenance loop.</summary>
    public void RemoveExpired()
    {
        foreach (var (rand, pending) in _pending)
        {
            if (time.GetElapsedTime(pending.CreatedAt) >= options.ChallengeTimeout && _pending.TryRemove(rand, out _))
            {
                Release(pending);
            }
        }

        foreach (var (rand, answered) in _answered)
        {
            if (time.GetElapsedTime(answered.At) >= options.ChallengeTimeout)
            {
                _answered.TryRemove(rand, out _);
            }
        }
    }

    private byte[] OnHello(Hello hello, IPAddress source)
    {
        if (!ClientIds.IsValid(hello.ClientId))
        {
            return Reply(new Error(ErrorCodes.InvalidClientId, ClientIds.Rule));
        }

        if (hello.Nonce.Length is < 16 or > 64 || hello.Nonce.Contains(',') || hello.EphemeralKey.Length > 128)
        {
            return Reply(new Error(ErrorCodes.BadMessage, "HELLO needs a nonce of 16 to 64 characters without ',' and a P-256 key."));
        }

        if (_pending.Count >= options.MaxPendingHandshakes)
        {
            logger.LogWarning("Handshake table full ({Count}); refusing HELLO from {Source}", _pending.Count, source);
            return Reply(new Error(ErrorCodes.ServerBusy, "The server is busy; try again shortly."));
        }

        // Look the user up before taking a per-address slot, so a failing lookup cannot leak one.
        var user = users.Find(hello.ClientId);
        if (_pendingPerAddress.AddOrUpdate(source, 1, (_, n) => n + 1) > options.MaxPendingHandshakesPerAddress)
        {
            DecrementAddress(source);
            logger.LogWarning("Too many open handshakes from {Source}", source);
            return Reply(new Error(ErrorCodes.RateLimited, "Too many log-ons in progress from your address; try again shortly."));
        }

        var verifierSalt = user?.Verifier.Salt ?? FakeSalt(hello.ClientId);
        var iterations = user?.Verifier.Iterations ?? options.ScramIterations;
        var rand = hello.Nonce + Convert.ToBase64String(RandomNumberGenerator.GetBytes(NonceBytes));
        var ephemeral = new EphemeralKey();
        var challenge = new Challenge(rand, Convert.ToBase64String(verifierSalt), iterations, ephemeral.PublicKeyBase64);
        _pending[rand] = new PendingChallenge(hello, user, challenge, ephemeral, source, time.GetTimestamp());
        return Reply(challenge);
    }

    private byte[]? OnResponse(Response response)
    {
        if (_answered.TryGetValue(response.Rand, out var answered))
        {
            // A retransmission of the RESPONSE we already evaluated gets the same bytes back; anything else is a replay.
            return answered.Proof == response.Proof ? answered.Reply : Reply(ChallengeInvalid());
        }

        if (!_pending.TryRemove(response.Rand, out var pending))
        {
            return Reply(ChallengeInvalid());
        }

        Release(pending);
        using var ephemeral = pending.ServerEphemeral;
        if (time.GetElapsedTime(pending.CreatedAt) >= options.ChallengeTimeout)
        {
            return Reply(ChallengeInvalid());
        }

        var reply = Reply(Evaluate(pending, response));
        if (_answered.Count < options.MaxPendingHandshakes)
        {
            // Bounded like the pending table; past the bound a lost reply means logging on again, not more memory.
            _answered[response.Rand] = new Answered(response.Proof, reply, time.GetTimestamp());
        }

        return reply;
    }

    private ParleyMessage Evaluate(PendingChallenge pending, Response response)
    {
        var hello = pending.Hello;
        var challenge = pending.Challenge;
        var authMessage = AuthTranscript.AuthMessage(hello.ClientId, hello.Nonce, hello.EphemeralKey,
            challenge.Rand, challenge.Salt, challenge.Iterations, challenge.EphemeralKey);
        var proof = WireBase64.DecodeOrEmpty(response.Proof);
        var sameId = ClientIds.Comparer.Equals(response.ClientId, hello.ClientId);

        // Unknown IDs run the same HMACs against a dummy key, so the reply takes as long as a wrong password's.
        var clientKey = Scram.VerifyClientProof(pending.User?.Verifier.StoredKey ?? DummyStoredKey, proof, authMessage);
        var ecdhSecret = clientKey is null ? null : pending.ServerEphemeral.Agree(hello.EphemeralKey);
        if (pending.User is null || !sameId || clientKey is null || ecdhSecret is null)
        {
            logger.LogInformation("Log-on failed for a client ID from {Source}", pending.Source);
            return new AuthFail(FailText);
        }

        using var schedule = new KeySchedule(ecdhSecret, clientKey, authMessage);
        CryptographicOperations.ZeroMemory(ecdhSecret);
        CryptographicOperations.ZeroMemory(clientKey);
        var user = pending.User;
        var cookie = cookies.Issue(new SessionKeys(user.ClientId, schedule.ClientToServer, schedule.ServerToClient));
        var sealedTicket = TicketBox.Seal(schedule.AuthSuccess, new AuthTicket(cookie, TcpPort));
        var signature = Scram.ServerSignature(user.Verifier.ServerKey, authMessage);
        logger.LogInformation("{ClientId} authenticated from {Source}", user.ClientId, pending.Source);
        return new AuthSuccess(Convert.ToBase64String(signature), sealedTicket);
    }

    private byte[] FakeSalt(string clientId)
    {
        var mac = HMACSHA256.HashData(serverSecret, Encoding.UTF8.GetBytes("fake-salt:" + clientId.ToLowerInvariant()));
        return mac[..Scram.SaltBytes];
    }

    private void Release(PendingChallenge pending) => DecrementAddress(pending.Source);

    private void DecrementAddress(IPAddress source)
    {
        if (_pendingPerAddress.AddOrUpdate(source, 0, (_, n) => n - 1) <= 0)
        {
            _pendingPerAddress.TryRemove(new KeyValuePair<IPAddress, int>(source, 0));
        }
    }

    private static Error ChallengeInvalid() =>
        new(ErrorCodes.ChallengeInvalid, "That challenge expired or was already answered; log on again.");

    private static byte[] Reply(ParleyMessage message) => MessageCodec.ToBytes(message);

    private sealed record PendingChallenge(
        Hello Hello, StoredUser? User, Challenge Challenge, EphemeralKey ServerEphemeral, IPAddress Source, long CreatedAt);

    private sealed record Answered(string Proof, byte[] Reply, long At);
}
