using System.Net;
using System.Net.Sockets;

namespace Parley.Tests.Support;

/// <summary>
/// A loopback TCP proxy that forwards both directions and records every byte: what a network attacker between the
/// clients and the server captures (issue #5). Start it first, give its <see cref="Port"/> to the server as
/// <c>--advertise-tcp-port</c> (clients then connect here), and once the server is up point it at the server's real
/// TCP port with <see cref="ForwardTo"/>; a connection accepted before that is dropped. On a direct call (issue #6) it
/// sits on the caller's side: <c>source</c> is the caller's address, so the destination sees it as the caller.
/// </summary>
internal sealed class TcpTap : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<MemoryStream> _captures = [];
    private readonly List<Socket> _sockets = [];
    private readonly List<(Socket Server, SemaphoreSlim Writing)> _upstreams = [];
    private readonly List<Task> _pumps = [];
    private readonly Task _accepting;
    private readonly IPAddress? _source;
    private IPEndPoint? _target;
    private int _connections;

    private TcpTap(IPAddress? source)
    {
        _source = source;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _accepting = AcceptAsync();
    }

    /// <summary>Starts a tap whose onward connections leave from <paramref name="source"/> (any loopback address when null).</summary>
    public static TcpTap Start(IPAddress? source = null) => new(source);

    /// <summary>Where the tap listens.</summary>
    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    /// <summary>The loopback port the tap listens on.</summary>
    public int Port { get; }

    /// <summary>Connections forwarded so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Every byte forwarded so far: one array per connection and direction, each in the order it was sent.</summary>
    public IReadOnlyList<byte[]> Captures
    {
        get
        {
            lock (_gate)
            {
                return [.. _captures.Select(c => c.ToArray())];
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="bytes"/> to the server on forwarded connection <paramref name="connection"/> (0 is the
    /// first): an attacker on the path injecting into a live stream. It never lands inside a chunk the tap forwards;
    /// call it while the client is idle, so that it lands between two of the client's records.
    /// </summary>
    public async Task InjectAsync(int connection, byte[] bytes)
    {
        (Socket Server, SemaphoreSlim Writing) upstream;
        lock (_gate)
        {
            upstream = _upstreams[connection];
        }

        await upstream.Writing.WaitAsync(_stop.Token);
        try
        {
            for (var sent = 0; sent < bytes.Length;)
            {
                sent += await upstream.Server.SendAsync(bytes.AsMemory(sent), SocketFlags.None, _stop.Token);
            }
        }
        finally
        {
            upstream.Writing.Release();
        }
    }

    /// <summary>Where accepted connections are forwarded: 127.0.0.1:<paramref name="port"/>.</summary>
    public void ForwardTo(int port) => ForwardTo(new IPEndPoint(IPAddress.Loopback, port));

    public void ForwardTo(IPEndPoint target) => Volatile.Write(ref _target, target);

    /// <summary>A capture cut into its frames (5-byte header and body each, §2.2), in order; a trailing partial frame is left out.</summary>
    public static List<byte[]> Frames(byte[] capture)
    {
        var frames = new List<byte[]>();
        for (var at = 0; at + Parley.Protocol.Framing.Frame.HeaderBytes <= capture.Length;)
        {
            var length = Parley.Protocol.Framing.Frame.HeaderBytes + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(capture.AsSpan(at));
            if (at + length > capture.Length)
            {
                break;
            }

            frames.Add(capture[at..(at + length)]);
            at += length;
        }

        return frames;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        Task[] pumps;
        lock (_gate)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }

            pumps = [.. _pumps];
        }

        await Task.WhenAll([_accepting, .. pumps]).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var target = Volatile.Read(ref _target);
            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (target is null)
                {
                    throw new SocketException((int)SocketError.ConnectionRefused);
                }

                if (_source is not null)
                {
                    server.Bind(new IPEndPoint(_source, 0));
                }

                await server.ConnectAsync(target, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }

            var up = new MemoryStream();
            var down = new MemoryStream();
            var writing = new SemaphoreSlim(1, 1);
            lock (_gate)
            {
                _captures.Add(up);
                _captures.Add(down);
                _sockets.Add(client);
                _sockets.Add(server);
                _upstreams.Add((server, writing));
                _pumps.Add(PumpAsync(client, server, up, writing));
                _pumps.Add(PumpAsync(server, client, down, new SemaphoreSlim(1, 1)));
            }

            Interlocked.Increment(ref _connections);
        }
    }

    /// <summary>
    /// Copies <paramref name="from"/> to <paramref name="to"/>, recording each chunk before forwarding it whole, under
    /// <paramref name="writing"/> so that an injection never lands inside a chunk.
    /// </summary>
    private async Task PumpAsync(Socket from, Socket to, MemoryStream record, SemaphoreSlim writing)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                lock (_gate)
                {
                    record.Write(buffer, 0, n);
                }

                await writing.WaitAsync(_stop.Token);
                try
                {
                    for (var sent = 0; sent < n;)
                    {
                        sent += await to.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None, _stop.Token);
                    }
                }
                finally
                {
                    writing.Release();
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // One side reset or the tap is closing: end the other side too, as a broken link would.
            from.Dispose();
            to.Dispose();
        }
    }
}
