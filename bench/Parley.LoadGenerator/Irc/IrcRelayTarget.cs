using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
using Parley.LoadGenerator.Relay;

namespace Parley.LoadGenerator.Irc;

/// <summary>
/// The relay workload over IRC (RFC 2812): pair i is two registered nicks, s…i sending PRIVMSG to r…i. No channel is
/// joined, so the server's work per message is one nick lookup and one relayed line, the nearest IRC has to a CHAT
/// session between two Parley clients.
/// </summary>
internal sealed class IrcRelayTarget : IRelayTarget
{
    // A burst of thousands of connects would overflow the listen backlog (somaxconn 1024 in the bench config) and
    // cost SYN retries of a second or more; the registrations themselves still all wait in parallel.
    private const int ConnectsInFlight = 256;

    // InspIRCd completes registrations on its one-second tick, so 30 s is slack even for thousands of clients.
    private static readonly TimeSpan RegistrationTimeout = TimeSpan.FromSeconds(30);

    private readonly IPEndPoint _server;
    private readonly int? _serverProcessId;
    private readonly InspIrcdHost? _host;
    private readonly List<IrcConnection> _connections = [];

    /// <param name="server">The IRC server's client port.</param>
    /// <param name="serverProcessId">Its process, when it runs here; defaults to <paramref name="host"/>'s.</param>
    /// <param name="host">A server this target owns and stops when disposed.</param>
    /// <param name="name">The name results are reported under.</param>
    public IrcRelayTarget(IPEndPoint server, int? serverProcessId = null, InspIrcdHost? host = null, string name = "inspircd")
    {
        _server = server;
        _serverProcessId = serverProcessId ?? host?.ProcessId;
        _host = host;
        Name = name;
    }

    public string Name { get; }

    public int? ServerProcessId => _serverProcessId;

    public async Task<IRelayPair[]> ConnectAsync(int pairs, Action<int, string> delivered, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pairs);
        ArgumentNullException.ThrowIfNull(delivered);

        // Nicks of an earlier run can outlive it on the server (until its ping timeout), so each run takes its own
        // tag. Nicks reach 10 characters past 10,000 pairs, over RFC 2812 §1.2.1's 9; InspIRCd's default limit is 30.
        var run = RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz", 4);
        using var gate = new SemaphoreSlim(ConnectsInFlight);
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var senders = new Task<IrcConnection>[pairs];
        var receivers = new Task<IrcConnection>[pairs];
        for (var i = 0; i < pairs; i++)
        {
            senders[i] = OpenAsync($"s{run}{i}", null, i, gate, abort);
            receivers[i] = OpenAsync($"r{run}{i}", delivered, i, gate, abort);
        }

        Task<IrcConnection>[] all = [.. senders, .. receivers];
        try
        {
            await Task.WhenAll(all).ConfigureAwait(false);
        }
        catch
        {
            await Task.WhenAll(all.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result.DisposeAsync().AsTask())).ConfigureAwait(false);

            // The first failure cancelled the others; report it, not one of the cancellations it caused.
            var cause = all.Select(t => t.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException);
            if (cause is not null && !cancellationToken.IsCancellationRequested)
            {
                ExceptionDispatchInfo.Throw(cause);
            }

            throw;
        }

        lock (_connections)
        {
            _connections.AddRange(all.Select(t => t.Result));
        }

        var result = new IRelayPair[pairs];
        for (var i = 0; i < pairs; i++)
        {
            result[i] = new Pair(senders[i].Result, receivers[i].Result);
        }

        return result;
    }

    private async Task<IrcConnection> OpenAsync(string nick, Action<int, string>? delivered, int index, SemaphoreSlim gate, CancellationTokenSource abort)
    {
        var socket = new Socket(_server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await gate.WaitAsync(abort.Token).ConfigureAwait(false);
            try
            {
                await socket.ConnectAsync(_server, abort.Token).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }
        catch (SocketException e)
        {
            socket.Dispose();
            await abort.CancelAsync().ConfigureAwait(false);
            throw new IOException($"{nick} could not connect to {_server}: {e.Message}", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var connection = new IrcConnection(socket, nick, delivered, index);
        try
        {
            await connection.RegisterAsync(RegistrationTimeout, abort.Token).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await abort.CancelAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>QUITs every connection (in parallel), then stops the server if this target owns it.</summary>
    public async ValueTask DisposeAsync()
    {
        IrcConnection[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
            _connections.Clear();
        }

        try
        {
            await Task.WhenAll(connections.Select(c => c.DisposeAsync().AsTask())).ConfigureAwait(false);
        }
        finally
        {
            if (_host is not null)
            {
                await _host.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private sealed class Pair : IRelayPair
    {
        private readonly IrcConnection _sender;
        private readonly IrcConnection _receiver;
        private readonly byte[] _head;

        public Pair(IrcConnection sender, IrcConnection receiver)
        {
            _sender = sender;
            _receiver = receiver;
            _head = Encoding.ASCII.GetBytes($"PRIVMSG {receiver.Nick} :");
        }

        public ValueTask SendAsync(string body, CancellationToken cancellationToken)
        {
            // To a nick that is gone the server answers only 401 ERR_NOSUCHNICK (RFC 2812 §5.2), which nothing waits for.
            if (_receiver.CloseReason is { } reason)
            {
                return ValueTask.FromException(new IOException($"{_receiver.Nick} is closed: {reason}"));
            }

            return _sender.WriteAsync(_head, body, cancellationToken);
        }

        public async ValueTask DisposeAsync() =>
            await Task.WhenAll(_sender.DisposeAsync().AsTask(), _receiver.DisposeAsync().AsTask()).ConfigureAwait(false);
    }
}
