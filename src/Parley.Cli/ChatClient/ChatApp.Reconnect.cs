using System.Net.Sockets;
using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Messages;

namespace Parley.Cli.ChatClient;

/// <summary>
/// Logging on again by itself (issue #9; docs/PROTOCOL.md §8.2 "Reconnecting"): when the link is lost or the server
/// shuts down, the client says so, waits (<see cref="ReconnectBackoff"/>), and logs on again with the key it derived
/// from the password at the user's own log-on, never the password itself. It keeps the unlocked identity key, joins
/// again the rooms the user was in, and prints "Reconnected" and the unread counts. A chat ends at the drop (the server
/// ended it for the peer too); a direct call goes on. The user's Log off, the operator's kick, a password reset, a
/// removed account, the activity timeout, a log-on elsewhere and a rate-limit disconnect end the log-on for good, and
/// so does a try that fails authentication or fails in a way the client did not foresee. Each try runs beside the
/// app's loop, so typing, Log off and Ctrl-C are answered at once.
/// </summary>
internal sealed partial class ChatApp
{
    private const string LinkLost = "Could not send: the connection to the server is lost.";

    private const string StoppedReconnecting = "Stopped reconnecting. Type \"Log on\" to log on again.";

    /// <summary>
    /// How long the loop waits, after a reconnect, for the server to confirm the identity key is still current. The
    /// loop answers nothing meanwhile, so this is short; a check that did not finish is made at the next reconnect.
    /// </summary>
    private static readonly TimeSpan ResumeCheckTimeout = TimeSpan.FromSeconds(5);

    private readonly ReconnectBackoff? _backoff = reconnect is null ? null : new ReconnectBackoff(reconnect);

    /// <summary>The last log-on's proof of the password, without the password (<see cref="PasswordKey.ForgetPassword"/>); null when reconnecting is off.</summary>
    private PasswordKey? _logOnKey;

    /// <summary>
    /// The key of a /passwd not yet answered, derived for the new verifier's salt (no password kept): PASSWD_OK makes
    /// it the one to log on again with; a refusal drops it.
    /// </summary>
    private PasswordKey? _changedKey;

    /// <summary>The code of an ERROR that ended this log-on for good: the link closing after it is not reconnected.</summary>
    private string? _finalError;

    private Reconnection? _reconnecting;

    /// <summary>Who is logging on again, the rooms to join again, and the wait or try under way (at most one of the two).</summary>
    private sealed class Reconnection(string clientId, IReadOnlyList<string> rooms, TimeSpan activityTimeout)
    {
        public string ClientId { get; } = clientId;

        public IReadOnlyList<string> Rooms { get; } = rooms;

        public TimeSpan ActivityTimeout { get; } = activityTimeout;

        public CancellationTokenSource? Wait { get; set; }

        public CancellationTokenSource? Attempt { get; set; }
    }

    private sealed record ReconnectDue(CancellationTokenSource Wait);

    /// <summary>The outcome of one try: a connection, a failure the client knows, or <paramref name="Fault"/>, one it did not foresee.</summary>
    private sealed record ReconnectDone(CancellationTokenSource Attempt, ParleyConnection? Connection, ParleyClientException? Failure, Exception? Fault = null);

    /// <summary>
    /// Errors after which the server closes the link and the user must not be logged on again behind their back
    /// (docs/PROTOCOL.md §6): seed 001's activity timer, a log-on elsewhere (two clients would take turns for ever),
    /// the operator's kick, an account removed or its password reset, and a client cut off for sending too fast (a
    /// flooding script must not simply come back).
    /// </summary>
    private void NoteFinalError(ParleyMessage message)
    {
        if (message is Error
            {
                Code: ErrorCodes.IdleTimeout or ErrorCodes.LoggedOnElsewhere or ErrorCodes.Kicked or ErrorCodes.AccountRemoved or ErrorCodes.PasswordReset
                    or ErrorCodes.RateLimited,
            } error)
        {
            _finalError ??= error.Code;
        }
        else if (message is Error { Code: ErrorCodes.WrongPassword or ErrorCodes.LockedOut or ErrorCodes.BadVerifier or ErrorCodes.KeysInvalid }
            && _changedKey is { } refused)
        {
            // The answer to /passwd: the old password stays, and so does the old key.
            refused.Dispose();
            _changedKey = null;
        }
    }

    /// <summary>After a log-on: keep its key (password forgotten) to log on again, if reconnecting is on.</summary>
    private void KeepLogOnKey(ref PasswordKey? key)
    {
        _finalError = null;
        if (_backoff is null || key is null)
        {
            return;
        }

        _backoff.Reset();
        key.ForgetPassword();
        ForgetLogOnKey();
        _logOnKey = key;
        key = null;
    }

    private void ForgetLogOnKey()
    {
        _logOnKey?.Dispose();
        _logOnKey = null;
        _changedKey?.Dispose();
        _changedKey = null;
    }

    /// <summary>
    /// /passwd was sent with <paramref name="next"/>'s verifier: once the server says PASSWD_OK, only that key logs on
    /// again. It holds the derivation for the new salt, not the password (<see cref="PasswordKey.ForNewVerifier"/>).
    /// </summary>
    private void OnPasswordSent(ref PasswordKey? next)
    {
        if (_logOnKey is not null)
        {
            _changedKey?.Dispose();
            _changedKey = next;
            next = null;
        }
    }

    private void OnPasswordChanged()
    {
        if (_changedKey is { } changed)
        {
            _logOnKey?.Dispose();
            _logOnKey = changed;
            _changedKey = null;
        }
    }

    /// <summary>
    /// The link ended without the user asking: drop it, say <paramref name="said"/>, and log on again unless
    /// <paramref name="mayResume"/> is false, reconnecting is off, or an ERROR said this log-on is over.
    /// </summary>
    private async Task LoseLinkAsync(ParleyConnection connection, string said, bool mayResume)
    {
        var resume = mayResume && _logOnKey is not null && _finalError is null;
        var rooms = RoomsToRejoin();
        var rateLimited = mayResume && _logOnKey is not null && _finalError == ErrorCodes.RateLimited;
        await DropAsync(connection, keepLogOn: resume).ConfigureAwait(false);
        console.WriteLine(said);
        if (rateLimited)
        {
            // The ERROR's text ("You sent more than …") was printed already: it says why.
            console.WriteLine(StoppedReconnecting);
        }

        if (resume)
        {
            _reconnecting = new Reconnection(connection.ClientId, rooms, connection.ActivityTimeout);
            var delay = _backoff!.Next();
            console.WriteLine($"Reconnecting in {Seconds(delay)}. Type \"Log off\" to stop.");
            WaitToReconnect(_reconnecting, delay);
            UpdatePrompt();
        }
    }

    /// <summary>The rooms to join again, the one plain lines went to last, so that they go there again.</summary>
    private List<string> RoomsToRejoin()
    {
        var rooms = _rooms.Concat(_silentJoins).Distinct(StringComparer.Ordinal).ToList();
        if (_room is { } current && rooms.Remove(current))
        {
            rooms.Add(current);
        }

        return rooms;
    }

    private void WaitToReconnect(Reconnection reconnection, TimeSpan delay)
    {
        var wait = new CancellationTokenSource();
        reconnection.Wait = wait;
        _ = PostWhenDueAsync(wait, delay);
    }

    private async Task PostWhenDueAsync(CancellationTokenSource wait, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, wait.Token).ConfigureAwait(false);
            _inbox.Writer.TryWrite(new ReconnectDue(wait));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Starts a try now (the wait is over, or the user typed "Log on"), unless one is under way.</summary>
    private void TryReconnect(Reconnection reconnection)
    {
        if (reconnection.Attempt is not null || _logOnKey is not { } key)
        {
            return;
        }

        reconnection.Wait?.Cancel();
        reconnection.Wait = null;
        var attempt = new CancellationTokenSource();
        reconnection.Attempt = attempt;
        _ = AttemptAsync(reconnection.ClientId, key, attempt);
    }

    /// <summary>One log-on, beside the loop; its outcome comes back as <see cref="ReconnectDone"/>. Bounded by the UDP timeout.</summary>
    private async Task AttemptAsync(string clientId, PasswordKey key, CancellationTokenSource attempt)
    {
        ParleyConnection? connection = null;
        ParleyClientException? failure = null;
        Exception? fault = null;
        try
        {
            connection = await ParleyConnection.LogOnAsync(options, clientId, key, attempt.Token).ConfigureAwait(false);
        }
        catch (ParleyClientException e)
        {
            failure = e;
        }
        catch (Exception e) when (attempt.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException)
        {
            return; // stopped: Log off or quit
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            failure = new ParleyClientException(ClientFailure.ServerUnreachable, $"The server at {options.Host}:{options.Port} could not be reached ({e.Message}).");
        }
        catch (Exception e)
        {
            // Anything else (a malformed CHALLENGE, AUTH_SUCCESS or CONNECTED the library did not foresee) must still
            // come back to the loop, or the client would stay "(reconnecting)" for ever.
            fault = e;
        }

        if (!_inbox.Writer.TryWrite(new ReconnectDone(attempt, connection, failure, fault)) && connection is not null)
        {
            await connection.LogOffAsync().ConfigureAwait(false); // the program is ending
        }
    }

    private async Task OnReconnectDoneAsync(ReconnectDone done, CancellationToken cancellationToken)
    {
        if (_reconnecting is not { } reconnection || !ReferenceEquals(done.Attempt, reconnection.Attempt))
        {
            // Stopped while the try was under way: a link that came up anyway is closed at once.
            if (done.Connection is { } late)
            {
                await late.LogOffAsync().ConfigureAwait(false);
            }

            return;
        }

        reconnection.Attempt = null;
        if (done.Fault is { } fault)
        {
            console.WriteLine($"Could not log on again: {Display.Clean(fault.Message)}");
            StopReconnecting();
            console.WriteLine(StoppedReconnecting);
            return;
        }

        switch (done.Failure)
        {
            case { Failure: ClientFailure.AuthenticationFailed or ClientFailure.ServerNotAuthentic } failure:
                // Trying again cannot help (a changed password, a lock, a server that cannot prove itself) and could lock the ID.
                console.WriteLine(Display.Clean(failure.Message));
                StopReconnecting();
                console.WriteLine(StoppedReconnecting);
                return;
            case { } failure:
                // A RATE_LIMITED refusal says how long to wait: the next try comes no sooner (docs/PROTOCOL.md §10.5).
                var delay = _backoff!.Next(atLeast: failure.RetryAfter);
                console.WriteLine($"{Display.Clean(failure.Message)} Reconnecting in {Seconds(delay)}.");
                WaitToReconnect(reconnection, delay);
                return;
        }

        var connection = done.Connection!;
        _reconnecting = null;
        _backoff!.LinkUp(); // the waits start again from the first only once this link has stayed up a while
        _connection = connection;
        _ = PumpEventsAsync(connection);
        await ResumeEncryptionAsync(connection, cancellationToken).ConfigureAwait(false);
        console.WriteLine("Reconnected");
        ReportEncryption();
        await OnConnectedAsync(connection, reconnection.Rooms).ConfigureAwait(false);
        await StartListeningAsync(connection).ConfigureAwait(false);
        if (Seed000 && _call is null)
        {
            console.WriteLine("Enter destination user ID:");
        }

        UpdatePrompt();
    }

    /// <summary>The identity key unlocked at the user's log-on goes on with the new link (no password needed).</summary>
    private async Task ResumeEncryptionAsync(ParleyConnection connection, CancellationToken cancellationToken)
    {
        _warnedChanged.Clear();
        if (_e2e is not { } e2e)
        {
            return; // it was not available before the drop either, and _e2eUnavailable still says why
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(ResumeCheckTimeout);
        try
        {
            await e2e.ResumeAsync(connection, bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ParleyClientException { Failure: ClientFailure.ConnectionLost or ClientFailure.ServerUnreachable }
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The check could not be made (the new link is already gone, or slow): keep the key; the next reconnect checks.
        }
        catch (ParleyClientException e)
        {
            e2e.Dispose();
            _e2e = null;
            _e2eUnavailable = e.Message;
        }
    }

    /// <summary>
    /// A typed line while reconnecting: Log off stops; "Log on" tries at once; nothing is sent, and the user is told
    /// so (a plain line counts as one for the room the user was in, as it would have once connected).
    /// </summary>
    private void OnInputWhileReconnecting(UserInput input, Reconnection reconnection)
    {
        switch (input)
        {
            case UserInput.LogOff:
                StopReconnecting();
                console.WriteLine("Logged off");
                break;
            case UserInput.LogOn logOn when logOn.ClientId is null || ClientIds.Comparer.Equals(logOn.ClientId, reconnection.ClientId):
                TryReconnect(reconnection);
                break;
            case UserInput.LogOn or UserInput.SignUp:
                console.WriteLine($"You are reconnecting as {reconnection.ClientId}; type \"Log off\" first.");
                break;
            case UserInput.Unknown unknown when reconnection.Rooms.Count == 0:
                console.WriteLine(Unknown(unknown.Text));
                break;
            default:
                console.WriteLine(LinkLost);
                break;
        }
    }

    /// <summary>Seed 001 step 7 still holds while away: a user idle for the activity timeout is not logged on again.</summary>
    private void CheckIdleWhileReconnecting(Reconnection reconnection)
    {
        if (Environment.TickCount64 - _lastInput > (long)reconnection.ActivityTimeout.TotalMilliseconds)
        {
            StopReconnecting();
            console.WriteLine($"Logged off: no activity for {reconnection.ActivityTimeout.TotalSeconds:0.#} s.");
        }
    }

    /// <summary>Back to logged off: no more tries, and the kept key and identity key are wiped.</summary>
    private void StopReconnecting()
    {
        if (_reconnecting is not { } reconnection)
        {
            return;
        }

        _reconnecting = null;
        reconnection.Wait?.Cancel();
        reconnection.Attempt?.Cancel();
        _backoff?.Reset();
        StopEncryption();
        ForgetLogOnKey();
        UpdatePrompt();
    }

    private static string Seconds(TimeSpan delay) => $"{delay.TotalSeconds:0.#} s";
}
