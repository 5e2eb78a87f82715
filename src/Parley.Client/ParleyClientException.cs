namespace Parley.Client;

/// <summary>Why a log-on or connection failed, in a sentence fit to show the user.</summary>
public sealed class ParleyClientException(ClientFailure failure, string message, TimeSpan? retryAfter = null) : Exception(message)
{
    public ClientFailure Failure { get; } = failure;

    /// <summary>
    /// Set when no attempt can succeed before then: the client ID is locked after too many failed log-ons, or the
    /// server refused a HELLO with RATE_LIMITED and said how long to wait.
    /// </summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

public enum ClientFailure
{
    /// <summary>No answer over UDP within the timeout, or the TCP port refused.</summary>
    ServerUnreachable,

    /// <summary>AUTH_FAIL: unknown ID or wrong password (the server does not say which).</summary>
    AuthenticationFailed,

    /// <summary>The server's SCRAM signature or sealed ticket did not verify: it is not the server that holds our verifier.</summary>
    ServerNotAuthentic,

    /// <summary>The server answered with an ERROR (rate limit, bad ID, refused cookie…).</summary>
    Refused,

    /// <summary>The link ended while a request was waiting for its answer, or before CONNECTED answered CONNECT (a reset, an EOF).</summary>
    ConnectionLost,
}
