using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Server.Hosting;
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
    ParleyServerOptions options, UserStore users, LockoutStore lockouts, SignUpService signUps, CookieJar cookies,
    byte[] serverSecret, TimeProvider time, ServerMetrics metrics, RefusalLog refusals, ILogger<HandshakeService> logger)
{
    private const int NonceBytes = 18;
    private const int AmplificationFactor = 3;
    private const string FailText = "Log-on failed: unknown client ID or wrong password.";
    private static readonly byte[] DummyStoredKey = new byte[Scram.KeyBytes];

    private readonly ConcurrentDictionary<string, PendingChallenge> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Answered> _answered = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _evaluating = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<IPAddress, int> _pendingPerAddress = new();
    private readonly AddressRateLimiter _hellos = new(options.HellosPerMinutePerAddress, TimeSpan.FromMinutes(1), options.MaxTrackedAddresses, time);
    private readonly Lock[] _idStripes = [.. Enumerable.Range(0, 64).Select(_ => new Lock())];
    private int _fakeIterations = options.ScramIterations;

    /// <summary>
    /// The iteration count unknown IDs are challenged with: the one most stored verifiers use, refreshed by the
    /// account watcher, so a CHALLENGE's count does not single out unknown IDs after the server's setting changes.
    /// </summary>
    public int FakeIterations
    {
        get => Volatile.Read(ref _fakeIterations);
        set => Volatile.Write(ref _fakeIterations, value);
    }

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
            if (refusals.Allow())
            {
                logger.LogInformation("Dropped the reply to a {Bytes}-byte datagram from {Source} (amplification limit)", datagram.Length, source);
            }

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
            if (refusals.Allow())
            {
                logger.LogInformation("Rejected datagram from {Source}: {Code}", source, e.Code);
            }

            metrics.Handshake(HandshakeResult.Invalid);
            return Reply(new Error(e.Code, e.Message));
        }

        return message switch
        {
            Hello hello => OnHello(hello, source.Address),
            Response response => OnResponse(response),
            SignUpHello => Reply(signUps.Info),
            SignUp signUp => Reply(signUps.OnSignUp(signUp, source.Address)),

            // Seed 000's precaution: someone not logged on learns nothing, so a lookup over UDP (no session) is NOTFOUND.
            LookupRequest => Reply(new LookupReply(LookupStatus.NotFound)),
            _ => Invalid(new Error(ErrorCodes.NotAllowed, "Only HELLO, RESPONSE, SIGNUP_HELLO, SIGNUP and LOOKUP_REQUEST are accepted over UDP.")),
        };
    }

    /// <summary>Forgets expired challenges, cached answers and idle rate buckets; called by the server's maintenance loop.</summary>
    public void RemoveExpired()
    {
        _hellos.RemoveIdle();
        signUps.RemoveIdle();
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
            return Invalid(new Error(ErrorCodes.InvalidClientId, ClientIds.Rule));
        }

        if (hello.Nonce.Length is < 16 or > 64 || hello.Nonce.Contains(',') || hello.EphemeralKey.Length > 128)
        {
            return Invalid(new Error(ErrorCodes.BadMessage, "HELLO needs a nonce of 16 to 64 characters without ',' and a P-256 key."));
        }

        if (_pending.Count >= options.MaxPendingHandshakes)
        {
            if (refusals.Allow())
            {
                logger.LogWarning("Handshake table full ({Count}); refusing HELLO from {Source}", _pending.Count, source);
            }

            metrics.Handshake(HandshakeResult.Busy);
            return Reply(new Error(ErrorCodes.ServerBusy, "The server is busy; try again shortly."));
        }

        if (!_hellos.TryAcquire(source, out var wait))
        {
            if (refusals.Allow())
            {
                logger.LogWarning("Too many HELLOs from {Source}", source);
            }

            metrics.Handshake(HandshakeResult.RateLimited);
            return Reply(new Error(ErrorCodes.RateLimited, $"Too many log-on attempts from your address; try again in {Durations.Format(wait)}."));
        }

        // A locked ID gets no challenge at all, so the right password cannot slip through during the lock.
        if (lockouts.LockedUntil(hello.ClientId, time.GetUtcNow()) is { } lockedUntil)
        {
            metrics.Handshake(HandshakeResult.Locked);
            metrics.LogOn(LogOnResult.Locked);
            return Reply(Locked(lockedUntil));
        }

        // Look the user up before taking a per-address slot, so a failing lookup cannot leak one.
        var user = users.Find(hello.ClientId);
        if (_pendingPerAddress.AddOrUpdate(source, 1, (_, n) => n + 1) > options.MaxPendingHandshakesPerAddress)
        {
            DecrementAddress(source);
            if (refusals.Allow())
            {
                logger.LogWarning("Too many open handshakes from {Source}", source);
            }

            metrics.Handshake(HandshakeResult.RateLimited);
            return Reply(new Error(ErrorCodes.RateLimited, "Too many log-ons in progress from your address; try again shortly."));
        }

        var verifierSalt = user?.Verifier.Salt ?? FakeSalt(hello.ClientId);
        var iterations = user?.Verifier.Iterations ?? FakeIterations;
        var rand = hello.Nonce + Convert.ToBase64String(RandomNumberGenerator.GetBytes(NonceBytes));
        var ephemeral = new EcdhKey();
        var challenge = new Challenge(rand, Convert.ToBase64String(verifierSalt), iterations, ephemeral.PublicKeyBase64);
        _pending[rand] = new PendingChallenge(hello, user, challenge, ephemeral, source, time.GetTimestamp());
        metrics.Handshake(HandshakeResult.Challenged);
        return Reply(challenge);
    }

    private byte[]? OnResponse(Response response)
    {
        if (_answered.TryGetValue(response.Rand, out var answered))
        {
            return Retransmitted(answered, response);
        }

        // A retransmission can reach another receive loop while the first copy is still being evaluated (which writes
        // to the database): it is no replay, and the first copy's answer is on its way, so it gets no answer of its own.
        if (!_evaluating.TryAdd(response.Rand, response.Proof))
        {
            return _evaluating.TryGetValue(response.Rand, out var proof) && proof != response.Proof ? Stale() : null;
        }

        try
        {
            if (!_pending.TryRemove(response.Rand, out var pending))
            {
                // Unknown, expired, or evaluated between the two looks above (then it is answered as a retransmission).
                return _answered.TryGetValue(response.Rand, out answered) ? Retransmitted(answered, response) : Stale();
            }

            Release(pending);
            using var ephemeral = pending.ServerEphemeral;
            if (time.GetElapsedTime(pending.CreatedAt) >= options.ChallengeTimeout)
            {
                return Stale();
            }

            var reply = Reply(Evaluate(pending, response));
            if (_answered.Count < options.MaxPendingHandshakes)
            {
                // Bounded like the pending table; past the bound a lost reply means logging on again, not more memory.
                _answered[response.Rand] = new Answered(response.Proof, reply, time.GetTimestamp());
            }

            return reply;
        }
        finally
        {
            _evaluating.TryRemove(response.Rand, out _);
        }
    }

    /// <summary>
    /// A RESPONSE for a rand already evaluated: a retransmission (the same proof) gets the same bytes back, for
    /// challenge-timeout after the evaluation (§3.7) even if maintenance has not yet removed the entry; anything else,
    /// or anything later, is a replay.
    /// </summary>
    private byte[]? Retransmitted(Answered answered, Response response) =>
        answered.Proof == response.Proof && time.GetElapsedTime(answered.At) < options.ChallengeTimeout ? answered.Reply : Stale();

    /// <summary>
    /// Evaluates one RESPONSE. Answers for one ID are evaluated one at a time (a striped lock; the UDP listener runs
    /// several receive loops), so lock check, proof check and failure count are one step and a burst of answers to
    /// challenges opened earlier cannot get more than the threshold's guesses in.
    /// </summary>
    private ParleyMessage Evaluate(PendingChallenge pending, Response response)
    {
        var stripe = _idStripes[(int)((uint)StringComparer.OrdinalIgnoreCase.GetHashCode(pending.Hello.ClientId) % (uint)_idStripes.Length)];
        lock (stripe)
        {
            return EvaluateOneAtATime(pending, response);
        }
    }

    private ParleyMessage EvaluateOneAtATime(PendingChallenge pending, Response response)
    {
        var hello = pending.Hello;
        var challenge = pending.Challenge;
        var authMessage = AuthTranscript.AuthMessage(hello.ClientId, hello.Nonce, hello.EphemeralKey,
            challenge.Rand, challenge.Salt, challenge.Iterations, challenge.EphemeralKey);
        var proof = WireBase64.DecodeOrEmpty(response.Proof);
        var sameId = ClientIds.Comparer.Equals(response.ClientId, hello.ClientId);

        // A lock that began after this challenge was issued still holds: no password, right or wrong, is tried.
        if (lockouts.LockedUntil(hello.ClientId, time.GetUtcNow()) is { } lockedUntil)
        {
            metrics.LogOn(LogOnResult.Locked);
            return Locked(lockedUntil);
        }

        // The verifier as it is now, not as it was at HELLO: a password reset or removal since then must win. Unknown
        // IDs do the same lookup and run the same HMACs against a dummy key, so the reply takes as long as a wrong password's.
        var user = users.Find(hello.ClientId);

        var clientKey = Scram.VerifyClientProof(user?.Verifier.StoredKey ?? DummyStoredKey, proof, authMessage);
        var ecdhSecret = clientKey is null ? null : pending.ServerEphemeral.Agree(hello.EphemeralKey);
        if (user is null || !sameId || clientKey is null || ecdhSecret is null)
        {
            // Known and unknown IDs alike: count the failure (one durable write either way) and lock at the threshold.
            logger.LogInformation("Log-on failed for a client ID from {Source}", pending.Source);
            metrics.LogOn(LogOnResult.Failed);
            var now = time.GetUtcNow();
            return lockouts.RecordFailure(hello.ClientId, now, options.Lockout) is { } until
                ? new AuthFail($"{FailText} {LockedSentence(until - now)}", Durations.WholeSeconds(until - now))
                : new AuthFail(FailText);
        }

        lockouts.Clear(hello.ClientId);
        metrics.LogOn(LogOnResult.Ok);
        using var schedule = new KeySchedule(ecdhSecret, clientKey, authMessage);
        CryptographicOperations.ZeroMemory(ecdhSecret);
        CryptographicOperations.ZeroMemory(clientKey);
        var cookie = cookies.Issue(new SessionKeys(user.ClientId, user.Generation, schedule.ClientToServer, schedule.ServerToClient));
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

    private AuthFail Locked(DateTimeOffset until)
    {
        var wait = until - time.GetUtcNow();
        return new AuthFail(LockedSentence(wait), Durations.WholeSeconds(wait));
    }

    private static string LockedSentence(TimeSpan wait) =>
        $"Too many failed log-ons for this client ID: it is locked; try again in {Durations.Format(wait)}.";

    private static Error ChallengeInvalid() =>
        new(ErrorCodes.ChallengeInvalid, "That challenge expired or was already answered; log on again.");

    private static byte[] Reply(ParleyMessage message) => MessageCodec.ToBytes(message);

    private byte[] Invalid(Error error)
    {
        metrics.Handshake(HandshakeResult.Invalid);
        return Reply(error);
    }

    private byte[] Stale()
    {
        metrics.Handshake(HandshakeResult.Stale);
        return Reply(ChallengeInvalid());
    }

    private sealed record PendingChallenge(
        Hello Hello, StoredUser? User, Challenge Challenge, EcdhKey ServerEphemeral, IPAddress Source, long CreatedAt);

    private sealed record Answered(string Proof, byte[] Reply, long At);
}
