using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading.Channels;
using Parley.Protocol;
using Parley.Protocol.Accounts;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;

namespace Parley.Client;

/// <summary>
/// A logged-on client: the protected TCP link after CONNECTED. Incoming messages arrive on <see cref="Events"/> in
/// order; the channel completes when the link ends, and <see cref="CloseReason"/> says why. A background task sends
/// PING every keep-alive interval the server announced, so the server can tell a live idle client from a dead one.
/// </summary>
public sealed class ParleyConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly MessageChannel _channel;
    private readonly Channel<ParleyMessage> _events;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _receiving;
    private readonly Task _keepAlive;
    private string? _closeReason;
    private ScramVerifier _verifier;
    private ScramVerifier? _pendingVerifier;

    // Key-directory requests (issue #5) are answered out of the event stream, so a caller can await them while the
    // app's own loop is busy: KEYS by the asked ID, KEYS_OK (or its ERROR) by the one publish in flight.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource<Keys>> _keyRequests = new(StringComparer.OrdinalIgnoreCase);
    private TaskCompletionSource<KeysOk>? _publish;
    private TaskCompletionSource<LookupReply>? _lookup;
    private int _staleLookups;
    private readonly SemaphoreSlim _lookupLock = new(1, 1);

    private readonly TimeSpan _requestTimeout;

    private ParleyConnection(TcpClient tcp, MessageChannel channel, Connected connected, LogOnTicket ticket, int eventCapacity, TimeSpan requestTimeout)
    {
        // Only the salt and iteration count are kept: a password change must prove the old password afresh.
        _verifier = new ScramVerifier(ticket.Salt, ticket.Iterations, [], []);
        ScramIterations = connected.ScramIterations > 0 ? connected.ScramIterations : ticket.Iterations;
        MinPasswordLength = connected.MinPasswordLength > 0 ? connected.MinPasswordLength : AccountRules.DefaultMinPasswordLength;
        _tcp = tcp;
        _channel = channel;
        ClientId = connected.ClientId;
        ActivityTimeout = TimeSpan.FromSeconds(connected.ActivityTimeoutSeconds);
        _requestTimeout = requestTimeout;
        KeepAliveInterval = TimeSpan.FromSeconds(connected.KeepAliveSeconds);
        MaxMessageBytes = connected.MaxMessageBytes;
        Unread = connected.Unread ?? [];
        _events = Channel.CreateBounded<ParleyMessage>(new BoundedChannelOptions(eventCapacity) { SingleWriter = true });
        _receiving = ReceiveLoopAsync();
        _keepAlive = KeepAliveLoopAsync();
    }

    /// <summary>Our ID as the server stores it.</summary>
    public string ClientId { get; }

    /// <summary>The server's activity timer (seed 001 step 7); the client logs itself off after the same time.</summary>
    public TimeSpan ActivityTimeout { get; }

    public TimeSpan KeepAliveInterval { get; }

    public int MaxMessageBytes { get; }

    /// <summary>Unread direct messages waiting at log-on, per sender, most first (seed 002; issue #4).</summary>
    public IReadOnlyList<UnreadCount> Unread { get; }

    /// <summary>PBKDF2 iterations the server wants in a new password's verifier.</summary>
    public int ScramIterations { get; }

    /// <summary>The server's shortest acceptable password (it cannot check; the client does).</summary>
    public int MinPasswordLength { get; }

    public ChannelReader<ParleyMessage> Events => _events.Reader;

    public string? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>The whole connection phase: UDP authentication, then TCP CONNECT → CONNECTED.</summary>
    public static async Task<ParleyConnection> LogOnAsync(ParleyClientOptions options, string clientId, string password,
        CancellationToken cancellationToken = default)
    {
        var ticket = await UdpLogOn.RunAsync(options, clientId, password, cancellationToken).ConfigureAwait(false);
        return await ConnectAsync(ticket, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Seed 001 steps 5–6: TCP to port_number, CONNECT(rand_cookie), then CONNECTED as the first sealed record.</summary>
    internal static async Task<ParleyConnection> ConnectAsync(LogOnTicket ticket, ParleyClientOptions options, CancellationToken cancellationToken)
    {
        var tcp = options.LocalAddress is { } local ? new TcpClient(new IPEndPoint(local, 0)) { NoDelay = true } : new TcpClient(ticket.Address.AddressFamily) { NoDelay = true };

        // The connect and the wait for CONNECTED get the same bound as a UDP request: a silent server is reported, not waited on forever.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.UdpTimeout);
        try
        {
            try
            {
                await tcp.ConnectAsync(new IPEndPoint(ticket.Address, ticket.TcpPort), deadline.Token).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                throw new ParleyClientException(ClientFailure.ServerUnreachable, $"The server's TCP port {ticket.Address}:{ticket.TcpPort} refused the connection.");
            }

            var stream = tcp.GetStream();
            var channel = new MessageChannel(new StreamDuplexPipe(stream), options.MaxFrameBytes);
            await channel.SendAsync(new Connect(ticket.ClientId, ticket.Cookie), deadline.Token).ConfigureAwait(false);
            channel.Protect(send: ticket.ClientToServer, receive: ticket.ServerToClient, acceptPlainRefusal: true);
            var first = await ReadFirstAsync(channel, deadline.Token).ConfigureAwait(false);
            return first switch
            {
                Connected connected => new ParleyConnection(tcp, channel, connected, ticket, options.EventQueueCapacity, options.RequestTimeout),
                Error error => throw new ParleyClientException(ClientFailure.Refused, error.Text),
                _ => throw new ParleyClientException(ClientFailure.Refused, "The server did not answer CONNECT with CONNECTED."),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            tcp.Dispose();
            throw new ParleyClientException(ClientFailure.ServerUnreachable,
                $"The server at {ticket.Address}:{ticket.TcpPort} did not complete the connection within {options.UdpTimeout.TotalSeconds:0.#} s.");
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends one message. <paramref name="cancellationToken"/> can cancel the wait for the send lock, never a write in
    /// progress: a record cut off mid-frame would break the sequence numbers and end the connection. A write the
    /// server never drains is ended by <see cref="LogOffAsync"/> or disposal, which close the socket.
    /// </summary>
    public async Task SendAsync(ParleyMessage message, CancellationToken cancellationToken = default)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _channel.SendAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// <c>/passwd</c> (issue #3): sends PASSWD with a new verifier and a proof of <paramref name="currentPassword"/>
    /// bound to it. The answer arrives on <see cref="Events"/>: PASSWD_OK, or an ERROR (wrong password, locked).
    /// Runs PBKDF2 twice, so it takes as long as two log-ons' hashing.
    /// </summary>
    /// <paramref name="backup"/> (issue #5) is the identity key re-wrapped under the new password, stored with it.
    public async Task ChangePasswordAsync(string currentPassword, string newPassword, KeyBackupInfo? backup = null, CancellationToken cancellationToken = default)
    {
        var next = Scram.CreateVerifier(newPassword, ScramIterations);
        var salted = Scram.SaltedPassword(currentPassword, _verifier.Salt, _verifier.Iterations);
        var clientKey = Scram.ClientKey(salted);
        var proof = Scram.ClientProof(clientKey, Scram.PasswdBinding(next));
        CryptographicOperations.ZeroMemory(salted);
        CryptographicOperations.ZeroMemory(clientKey);
        Volatile.Write(ref _pendingVerifier, next);
        await SendAsync(new Passwd(Convert.ToBase64String(proof), Convert.ToBase64String(next.Salt), next.Iterations,
            Convert.ToBase64String(next.StoredKey), Convert.ToBase64String(next.ServerKey), backup), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// KEYS_GET (issue #5): every identity key <paramref name="clientId"/> published, and my backup when it is me.
    /// Concurrent requests for one ID share the answer. Fails with <see cref="ParleyClientException"/> if the link ends first.
    /// </summary>
    /// Every failure, a timeout (<see cref="ParleyClientOptions.RequestTimeout"/>) included, is a <see cref="ParleyClientException"/>.
    public async Task<Keys> GetKeysAsync(string clientId, CancellationToken cancellationToken = default)
    {
        var pending = new TaskCompletionSource<Keys>(TaskCreationOptions.RunContinuationsAsynchronously);
        var request = _keyRequests.GetOrAdd(clientId, pending);
        if (ReferenceEquals(request, pending))
        {
            await SendRequestAsync(new KeysGet(clientId), pending, () => _keyRequests.TryRemove(new(clientId, pending)), cancellationToken).ConfigureAwait(false);
        }

        return await AwaitAnswerAsync(request.Task, () => _keyRequests.TryRemove(new(clientId, request)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>KEYS_PUT (issue #5): publishes my identity keys and their backup; returns the stored fingerprint or throws with the server's reason.</summary>
    public async Task<string> PublishKeysAsync(KeysPut keys, CancellationToken cancellationToken = default)
    {
        var pending = new TaskCompletionSource<KeysOk>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _publish, pending, null) is not null)
        {
            throw new InvalidOperationException("A key publication is already in flight.");
        }

        void Forget() => Interlocked.CompareExchange(ref _publish, null, pending);
        await SendRequestAsync(keys, pending, Forget, cancellationToken).ConfigureAwait(false);
        return (await AwaitAnswerAsync(pending.Task, Forget, cancellationToken).ConfigureAwait(false)).Fingerprint;
    }

    /// <summary>Sends a request whose answer <paramref name="pending"/> awaits; a link already closed, or closing under the send, fails it at once.</summary>
    private async Task SendRequestAsync<T>(ParleyMessage request, TaskCompletionSource<T> pending, Action forget, CancellationToken cancellationToken)
    {
        try
        {
            // Checked after registering: the receive loop fails what is registered when it ends, this catches the rest.
            if (CloseReason is not null)
            {
                throw new IOException("closed");
            }

            await SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Never sent: nobody may join this request and wait for an answer that cannot come.
            forget();
            pending.TrySetCanceled(cancellationToken);
            throw;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or SocketException or ProtocolException)
        {
            forget();
            var lost = new ParleyClientException(ClientFailure.ConnectionLost, $"The connection ended ({CloseReason ?? e.Message}).");
            pending.TrySetException(lost);
            throw lost;
        }
    }

    private async Task<T> AwaitAnswerAsync<T>(Task<T> answer, Action forget, CancellationToken cancellationToken)
    {
        try
        {
            return await answer.WaitAsync(_requestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            forget();
            throw new ParleyClientException(ClientFailure.ServerUnreachable,
                $"The server did not answer within {_requestTimeout.TotalSeconds:0.#} s (it may not support end-to-end encryption).");
        }
        catch (OperationCanceledException)
        {
            forget(); // the answer may still come; it then falls through to Events, where nothing waits for it
            throw;
        }
    }

    /// <summary>
    /// Seed 000's Lookup (issue #6): LOOKUP_REQUEST, answered by the next LOOKUP_REPLY. One lookup at a time, so
    /// replies (which name no request) pair with requests in order. Failures are <see cref="ParleyClientException"/>.
    /// </summary>
    public async Task<LookupReply> LookupAsync(string clientId, CancellationToken cancellationToken = default)
    {
        await _lookupLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        var sent = false;
        try
        {
            var pending = new TaskCompletionSource<LookupReply>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _lookup, pending);
            void Forget()
            {
                // Given up on after it was sent, and still unanswered: its late reply must not be taken for the next
                // lookup's. (If the reply won the race, it was consumed and there is nothing stale.)
                if (ReferenceEquals(Interlocked.CompareExchange(ref _lookup, null, pending), pending) && sent)
                {
                    Interlocked.Increment(ref _staleLookups);
                }
            }

            await SendRequestAsync(new LookupRequest(clientId), pending, Forget, cancellationToken).ConfigureAwait(false);
            sent = true;
            return await AwaitAnswerAsync(pending.Task, Forget, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lookupLock.Release();
        }
    }

    /// <summary>LISTEN (issue #6): tells the server the port direct calls reach us on (0: none).</summary>
    public Task ListenAsync(int port, CancellationToken cancellationToken = default) => SendAsync(new Listen(port), cancellationToken);

    /// <summary>Seed 001 step 7: says LOG_OFF and tears down the TCP connection.</summary>
    public async Task LogOffAsync()
    {
        try
        {
            await SendAsync(new LogOff()).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or TimeoutException or OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
            // The link is already gone; closing it is all that is left.
        }

        Close("logged off");
        await DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        Close("disposed");
        _tcp.Dispose();
        await Task.WhenAll(_receiving, _keepAlive).ConfigureAwait(false);
        _channel.Dispose();
        _sendLock.Dispose();
        _lookupLock.Dispose();
    }

    private void Close(string reason)
    {
        if (Interlocked.CompareExchange(ref _closeReason, reason, null) is null)
        {
            _closing.Cancel();
        }
    }

    private static async Task<ParleyMessage?> ReadFirstAsync(MessageChannel channel, CancellationToken cancellationToken)
    {
        try
        {
            return await channel.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ProtocolException or IOException)
        {
            throw new ParleyClientException(ClientFailure.ServerNotAuthentic, "The server's first record did not verify; refusing to continue.");
        }
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (true)
            {
                ParleyMessage? message;
                try
                {
                    message = await _channel.ReadAsync(_closing.Token).ConfigureAwait(false);
                }
                catch (ProtocolException e) when (!e.Fatal)
                {
                    continue; // Authenticated but not understood (a newer server's msgtype): skip it, as the server does.
                }

                if (message is null)
                {
                    Close("the server closed the connection");
                    break;
                }

                if (message is Pong)
                {
                    continue;
                }

                if (TryCompleteKeyRequest(message))
                {
                    continue;
                }

                if (message is PasswdOk && Interlocked.Exchange(ref _pendingVerifier, null) is { } changed)
                {
                    _verifier = changed; // a second /passwd in this session proves the new password
                }

                await _events.Writer.WriteAsync(message, _closing.Token).ConfigureAwait(false);
            }
        }
        catch (ProtocolException e)
        {
            Close("protocol error: " + e.Message);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
            Close("the connection was lost");
        }
        finally
        {
            _events.Writer.TryComplete();
            var lost = new ParleyClientException(ClientFailure.ConnectionLost, $"The connection ended ({CloseReason}).");
            foreach (var request in _keyRequests.Values)
            {
                request.TrySetException(lost);
            }

            Interlocked.Exchange(ref _publish, null)?.TrySetException(lost);
            Interlocked.Exchange(ref _lookup, null)?.TrySetException(lost);
        }
    }

    /// <summary>Completes the key-directory request that <paramref name="message"/> answers; false if it answers none.</summary>
    private bool TryCompleteKeyRequest(ParleyMessage message)
    {
        switch (message)
        {
            case Keys keys when _keyRequests.TryRemove(keys.ClientId, out var request):
                request.TrySetResult(keys);
                return true;
            case LookupReply when Volatile.Read(ref _staleLookups) > 0:
                Interlocked.Decrement(ref _staleLookups);
                return true;
            case LookupReply reply when Interlocked.Exchange(ref _lookup, null) is { } lookup:
                lookup.TrySetResult(reply);
                return true;
            case KeysOk ok when Interlocked.Exchange(ref _publish, null) is { } publish:
                publish.TrySetResult(ok);
                return true;
            // ERROR names no request: KEYS_INVALID is a publish's unless a PASSWD (whose backup it may be about) waits too.
            case Error { Code: ErrorCodes.KeysInvalid or ErrorCodes.TooManyKeys or ErrorCodes.AccountRemoved } error
                when Volatile.Read(ref _publish) is not null && (error.Code != ErrorCodes.KeysInvalid || Volatile.Read(ref _pendingVerifier) is null):
                Interlocked.Exchange(ref _publish, null)?.TrySetException(new ParleyClientException(ClientFailure.Refused, error.Text));
                return true;
            case Error { Code: ErrorCodes.UnknownMsgType } error when !_keyRequests.IsEmpty || Volatile.Read(ref _publish) is not null || Volatile.Read(ref _lookup) is not null:
                // A server from before issue #5 does not know KEYS_GET/KEYS_PUT: fail what waits instead of timing out.
                var refused = new ParleyClientException(ClientFailure.Refused, $"The server does not support end-to-end encryption ({error.Text}).");
                foreach (var request in _keyRequests.Values)
                {
                    request.TrySetException(refused);
                }

                _keyRequests.Clear();
                Interlocked.Exchange(ref _publish, null)?.TrySetException(refused);
                Interlocked.Exchange(ref _lookup, null)?.TrySetException(refused);
                return true;
            default:
                return false;
        }
    }

    private async Task KeepAliveLoopAsync()
    {
        using var timer = new PeriodicTimer(KeepAliveInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_closing.Token).ConfigureAwait(false))
            {
                await SendAsync(new Ping(), _closing.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
            // The connection is ending; the receive loop records why.
        }
    }
}
