using System.Net;
using System.Net.Sockets;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;

namespace Parley.Client;

/// <summary>What the UDP phase yields: where to connect over TCP, the cookie, and the record keys.</summary>
internal sealed record LogOnTicket(IPAddress Address, int TcpPort, string ClientId, string Cookie, DirectionKeys ClientToServer, DirectionKeys ServerToClient);

/// <summary>
/// The client side of seed 001's connection phase over UDP. Datagrams get lost, so every request is retransmitted
/// with exponential backoff until an answer arrives or <see cref="ParleyClientOptions.UdpTimeout"/> passes. The client
/// pays the PBKDF2 cost and refuses a server whose ServerSignature does not verify (RFC 5802 §3, mutual auth).
/// </summary>
internal static class UdpLogOn
{
    public static async Task<LogOnTicket> RunAsync(ParleyClientOptions options, string clientId, string password, CancellationToken cancellationToken)
    {
        if (!ClientIds.IsValid(clientId))
        {
            throw new ParleyClientException(ClientFailure.Refused, ClientIds.Rule);
        }

        var address = await ResolveAsync(options, cancellationToken).ConfigureAwait(false);
        using var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(new IPEndPoint(address, options.Port), cancellationToken).ConfigureAwait(false);
        using var scram = new ScramClient(clientId, password);

        var challenge = (Challenge)await ExchangeAsync(socket, options, scram.Hello,
            reply => reply is Challenge c && scram.IsOurs(c), cancellationToken).ConfigureAwait(false);
        var response = scram.Answer(challenge, options.MaxIterations);
        var answer = await ExchangeAsync(socket, options, response, reply => reply is AuthSuccess or AuthFail, cancellationToken).ConfigureAwait(false);
        if (answer is AuthFail fail)
        {
            throw new ParleyClientException(ClientFailure.AuthenticationFailed, fail.Text);
        }

        var (ticket, c2s, s2c) = scram.Verify((AuthSuccess)answer);
        return new LogOnTicket(address, ticket.PortNumber, clientId, ticket.RandCookie, c2s, s2c);
    }

    private static async Task<IPAddress> ResolveAsync(ParleyClientOptions options, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(options.Host, out var literal))
        {
            return literal;
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(options.Host, cancellationToken).ConfigureAwait(false);
            return addresses.FirstOrDefault() ?? throw new SocketException((int)SocketError.HostNotFound);
        }
        catch (SocketException)
        {
            throw new ParleyClientException(ClientFailure.ServerUnreachable, $"Cannot resolve the server name {options.Host}.");
        }
    }

    /// <summary>Sends <paramref name="request"/> until a reply that <paramref name="accept"/>s arrives; ERRORs end it.</summary>
    private static async Task<ParleyMessage> ExchangeAsync(Socket socket, ParleyClientOptions options, ParleyMessage request,
        Func<ParleyMessage, bool> accept, CancellationToken cancellationToken)
    {
        var bytes = MessageCodec.ToBytes(request);
        var buffer = new byte[64 * 1024];
        var interval = options.InitialRetransmitInterval;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.UdpTimeout);
        try
        {
            while (true)
            {
                await socket.SendAsync(bytes, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
                wait.CancelAfter(interval);
                try
                {
                    while (true)
                    {
                        var n = await socket.ReceiveAsync(buffer, SocketFlags.None, wait.Token).ConfigureAwait(false);
                        ParleyMessage reply;
                        try
                        {
                            reply = MessageCodec.Read(buffer.AsSpan(0, n));
                        }
                        catch (ProtocolException)
                        {
                            continue; // Not a Parley server's datagram; keep waiting.
                        }

                        if (reply is Error error)
                        {
                            throw new ParleyClientException(ClientFailure.Refused, error.Text);
                        }

                        if (accept(reply))
                        {
                            return reply;
                        }
                    }
                }
                catch (OperationCanceledException) when (!deadline.IsCancellationRequested)
                {
                    interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, options.MaxRetransmitInterval.Ticks));
                }
                catch (SocketException)
                {
                    // ICMP port unreachable: nobody listens yet. Wait out the interval, then retransmit.
                    await Task.Delay(interval, deadline.Token).ConfigureAwait(false);
                    interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, options.MaxRetransmitInterval.Ticks));
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ParleyClientException(ClientFailure.ServerUnreachable,
                $"The server is not reachable at {options.Host}:{options.Port} (no answer within {options.UdpTimeout.TotalSeconds:0.#} s).");
        }
    }
}
