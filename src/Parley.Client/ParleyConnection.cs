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
public sealed partial class ParleyConnection : IAsyncDisposable
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
        using var key = new PasswordKey(password);
        return await LogOnAsync(options, clientId, key, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The same log-on with a <see cref="PasswordKey"/>: the PBKDF2 cost is paid once per salt, not once per log-on.
    /// </summary>
    public static async Task<ParleyConnection> LogOnAsync(ParleyClientOptions options, string clientId, PasswordKey password,
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
            var first = await ReadFirstAsync(channel, ticket, deadline.Token).ConfigureAwait(false);
            return first switch
            {
                Connected connected => new ParleyConnection(tcp, channel, connected, ticket, options.EventQueueCapacity, options.RequestTimeout),
                Error error => throw new ParleyClientException(ClientFailure.Refused, error.Text),
                _ => throw new ParleyClientException(ClientFailure.Refused, "The server did not answer CONNECT with CONNECTED."),
            };
        }
        catch (IOException e)
        {
            // The CONNECT could not be written: the server went away (a restart, a network blip), so a later try may work.
            tcp.Dispose();
            throw EndedEarly(ticket, e.Message);
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
        using var key = new PasswordKey(newPassword);
        await ChangePasswordAsync(currentPassword, key, backup, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The same change with the new password in <paramref name="newPassword"/>: the verifier's salt is chosen here, and
    /// the key keeps that salt's derivation and forgets the password, so a caller can log on again with it once
    /// PASSWD_OK arrives without keeping the password (docs/PROTOCOL.md §8.2).
    /// </summary>
    public async Task ChangePasswordAsync(string currentPassword, PasswordKey newPassword, KeyBackupInfo? backup = null, CancellationToken cancellationToken = default)
    {
        var next = newPassword.CreateVerifier(ScramIterations);
        var salted = Scram.SaltedPassword(currentPassword, _verifier.Salt, _verifier.Iterations);
        var clientKey = Scram.ClientKey(salted);
        var proof = Scram.ClientProof(clientKey, Scram.PasswdBinding(next));
        CryptographicOperations.ZeroMemory(salted);
        CryptographicOperations.ZeroMemory(clientKey);
        Volatile.Write(ref _pendingVerifier, next);
        await SendAsync(new Passwd(Convert.ToBase64String(proof), Convert.ToBase64String(next.Salt), next.Iterations,
            Convert.ToBase64String(next.StoredKey), Convert.ToBase64String(next.ServerKey), backup), cancellationToken).ConfigureAwait(false);
    }

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

    /// <summary>
    /// The answer to CONNECT. Only a record that fails to verify (RECORD_INVALID) means the far end is not the server
    /// that sealed our ticket; a reset, an EOF or a frame cut off is a link that broke before CONNECTED (a server
    /// crashing mid-log-on, a network blip), which a later try may mend (docs/PROTOCOL.md §8.2).
    /// </summary>
    private static async Task<ParleyMessage> ReadFirstAsync(MessageChannel channel, LogOnTicket ticket, CancellationToken cancellationToken)
    {
        try
        {
            return await channel.ReadAsync(cancellationToken).ConfigureAwait(false) ?? throw EndedEarly(ticket, "it closed the connection");
        }
        catch (ProtocolException e) when (e.Code == ErrorCodes.RecordInvalid)
        {
            throw new ParleyClientException(ClientFailure.ServerNotAuthentic, "The server's first record did not verify; refusing to continue.");
        }
        catch (Exception e) when (e is ProtocolException or IOException)
        {
            throw EndedEarly(ticket, e.Message);
        }
    }

    private static ParleyClientException EndedEarly(LogOnTicket ticket, string why) => new(ClientFailure.ConnectionLost,
        $"The connection to the server at {ticket.Address}:{ticket.TcpPort} ended before CONNECTED ({why.TrimEnd('.')}).");

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
            FailPendingRequests(new ParleyClientException(ClientFailure.ConnectionLost, $"The connection ended ({CloseReason})."));
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
