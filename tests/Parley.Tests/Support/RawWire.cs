using System.Net;
using System.Net.Sockets;
using System.Text;
using Parley.Client;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;

namespace Parley.Tests.Support;

/// <summary>Byte-level access to a server, for sending what a well-behaved client never would.</summary>
internal static class RawWire
{
    public static byte[] PlainFrame(ReadOnlySpan<byte> body)
    {
        var frame = new byte[Frame.HeaderBytes + body.Length];
        Frame.WriteHeader(frame, body.Length, FrameKind.Plain);
        body.CopyTo(frame.AsSpan(Frame.HeaderBytes));
        return frame;
    }

    public static byte[] PlainFrame(ParleyMessage message) => PlainFrame(MessageCodec.ToBytes(message));

    public static byte[] SealedFrame(RecordCipher sealer, ParleyMessage message) => SealedFrame(sealer, MessageCodec.ToBytes(message));

    /// <summary>Seals any bytes, valid JSON or not, as the next record.</summary>
    public static byte[] SealedFrame(RecordCipher sealer, ReadOnlySpan<byte> plain)
    {
        var frame = new byte[Frame.HeaderBytes + plain.Length + RecordCipher.TagBytes];
        Frame.WriteHeader(frame, plain.Length + RecordCipher.TagBytes, FrameKind.Sealed);
        sealer.Seal(frame.AsSpan(0, Frame.HeaderBytes), plain, frame.AsSpan(Frame.HeaderBytes));
        return frame;
    }

    /// <summary>Runs the UDP phase with the real client code and returns the ticket, without connecting over TCP.</summary>
    public static async Task<LogOnTicket> AuthenticateAsync(InProcessServer server, string clientId, string password)
    {
        using var key = new PasswordKey(password);
        return await UdpLogOn.RunAsync(server.ClientOptions, clientId, key, new CancellationTokenSource(InProcessServer.Timeout).Token).ConfigureAwait(false);
    }

    /// <summary>One UDP request and its reply (null when nothing comes back within <paramref name="wait"/>).</summary>
    public static async Task<ParleyMessage?> UdpExchangeAsync(Socket socket, IPEndPoint server, ReadOnlyMemory<byte> datagram, TimeSpan? wait = null)
    {
        await socket.SendToAsync(datagram, SocketFlags.None, server);
        var buffer = new byte[65536];
        using var timeout = new CancellationTokenSource(wait ?? InProcessServer.Timeout);
        try
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return MessageCodec.Read(buffer.AsSpan(0, n));
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public static Socket UdpSocket(string bindAddress = "127.0.0.1")
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(bindAddress), 0));
        return socket;
    }

    public static byte[] Json(string text) => Encoding.UTF8.GetBytes(text);
}

/// <summary>A TCP connection to the server driven frame by frame.</summary>
internal sealed class RawTcp : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly MessageChannel _reader;

    private RawTcp(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _reader = new MessageChannel(new StreamDuplexPipe(_stream));
    }

    public RecordCipher? Sealer { get; private set; }

    /// <summary>A plain TCP connection to the chat port, from <paramref name="from"/> (a loopback address) if given.</summary>
    public static async Task<RawTcp> ConnectAsync(InProcessServer server, IPAddress? from = null)
    {
        var tcp = from is null ? new TcpClient() : new TcpClient(new IPEndPoint(from, 0));
        await tcp.ConnectAsync(server.Server.TcpEndPoint);
        return new RawTcp(tcp);
    }

    /// <summary>CONNECT with the ticket and expect CONNECTED as the first sealed record.</summary>
    public static async Task<RawTcp> ConnectWithTicketAsync(InProcessServer server, LogOnTicket ticket)
    {
        var raw = await ConnectAsync(server);
        await raw.SendAsync(RawWire.PlainFrame(new Connect(ticket.ClientId, ticket.Cookie)));
        raw._reader.Protect(ticket.ClientToServer, ticket.ServerToClient, acceptPlainRefusal: true);
        raw.Sealer = new RecordCipher(ticket.ClientToServer);
        Assert.IsType<Connected>(await raw.ReadAsync());
        return raw;
    }

    public async Task SendAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    public async Task<ParleyMessage?> ReadAsync()
    {
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        return await _reader.ReadAsync(timeout.Token);
    }

    /// <summary>The server must close the connection, after at most the messages returned.</summary>
    public async Task<List<ParleyMessage>> ExpectClosedAsync()
    {
        var before = new List<ParleyMessage>();
        while (true)
        {
            try
            {
                if (await ReadAsync() is not { } message)
                {
                    return before;
                }

                before.Add(message);
            }
            catch (IOException)
            {
                return before; // reset by the server
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        Sealer?.Dispose();
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
