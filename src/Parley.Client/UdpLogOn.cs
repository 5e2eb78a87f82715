using System.Net;
using System.Net.Sockets;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;

namespace Parley.Client;

/// <summary>What the UDP phase yields: where to connect over TCP, the cookie, the record keys, and the salt and iteration count of our verifier (a password change proves the old password with them).</summary>
internal sealed record LogOnTicket(IPAddress Address, int TcpPort, string ClientId, string Cookie, DirectionKeys ClientToServer, DirectionKeys ServerToClient,
    byte[] Salt, int Iterations);

/// <summary>
/// The client side of seed 001's connection phase over UDP. Datagrams get lost, so every request is retransmitted
/// with exponential backoff until an answer arrives or <see cref="ParleyClientOptions.UdpTimeout"/> passes. The client
/// pays the PBKDF2 cost and refuses a server whose ServerSignature does not verify (RFC 5802 §3, mutual auth).
/// </summary>
internal static class UdpLogOn
{
    public static async Task<LogOnTicket> RunAsync(ParleyClientOptions options, string clientId, PasswordKey password, CancellationToken cancellationToken)
    {
        if (!ClientIds.IsValid(clientId))
        {
            throw new ParleyClientException(ClientFailure.Refused, ClientIds.Rule);
        }

        using var socket = await OpenAsync(options, cancellationToken).ConfigureAwait(false);
        var address = ((IPEndPoint)socket.RemoteEndPoint!).Address;
        using var scram = new ScramClient(clientId, password);

        // A locked ID is answered AUTH_FAIL at once, without a challenge (issue #3).
        var first = await ExchangeAsync(socket, options, scram.Hello,
            reply => reply is Challenge c && scram.IsOurs(c) || reply is AuthFail, cancellationToken).ConfigureAwait(false);
        var challenge = first as Challenge ?? throw Failed((AuthFail)first);
        var response = scram.Answer(challenge, options.MaxIterations);
        var answer = await ExchangeAsync(socket, options, response, reply => reply is AuthSuccess or AuthFail, cancellationToken).ConfigureAwait(false);
        if (answer is AuthFail fail)
        {
            throw Failed(fail);
        }

        var (ticket, c2s, s2c) = scram.Verify((AuthSuccess)answer);
        return new LogOnTicket(address, ticket.PortNumber, clientId, ticket.RandCookie, c2s, s2c,
            WireBase64.DecodeOrEmpty(challenge.Salt), challenge.Iterations);
    }

    private static ParleyClientException Failed(AuthFail fail) => new(ClientFailure.AuthenticationFailed, fail.Text,
        fail.RetryAfterSeconds is int seconds and > 0 ? TimeSpan.FromSeconds(seconds) : null);

    /// <summary>A UDP socket connected to the server, so only its datagrams are received.</summary>
    internal static async Task<Socket> OpenAsync(ParleyClientOptions options, CancellationToken cancellationToken)
    {
        var address = await ResolveAsync(options, cancellationToken).ConfigureAwait(false);
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (options.LocalAddress is { } local)
            {
                socket.Bind(new IPEndPoint(local, 0));
            }

            await socket.ConnectAsync(new IPEndPoint(address, options.Port), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
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
    internal static async Task<ParleyMessage> ExchangeAsync(Socket socket, ParleyClientOptions options, ParleyMessage request,
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
                            // RATE_LIMITED says how long to wait (§10.5): a client retrying by itself must not come back sooner.
                            throw new ParleyClientException(ClientFailure.Refused, error.Text,
                                error.Code == ErrorCodes.RateLimited ? Durations.ParseRetryAfter(error.Text) : null);
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
