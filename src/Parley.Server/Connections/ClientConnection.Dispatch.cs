using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Protocol.Messages;

namespace Parley.Server.Connections;

/// <summary>The receive loop: one message at a time, in order, dispatched by msgtype.</summary>
internal sealed partial class ClientConnection
{
    private async Task ReceiveLoopAsync()
    {
        try
        {
            await ReceiveUntilStoppedAsync().ConfigureAwait(false);
        }
        finally
        {
            _readingStopped.TrySetResult();
        }

        // Stopped for a shutdown: wait, without reading, for the server to close the link after its last words.
        if (_stopReading.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, _closing.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task ReceiveUntilStoppedAsync()
    {
        var token = _closing.Token;
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(token, _stopReading.Token);
        using var handling = CancellationTokenSource.CreateLinkedTokenSource(token, _abandonRequest.Token);
        while (!reading.IsCancellationRequested)
        {
            ParleyMessage? message;
            try
            {
                message = await _channel.ReadAsync(reading.Token).ConfigureAwait(false);
            }
            catch (ProtocolException e)
            {
                _logger.LogInformation("{ClientId} sent a bad frame: {Code}", ClientId, e.Code);
                if (IsFlooding())
                {
                    return;
                }

                if (e.Fatal)
                {
                    Close("protocol violation: " + e.Code, new Error(e.Code, e.Message));
                    return;
                }

                try
                {
                    await ReplyAsync(new Error(e.Code, e.Message), token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
                {
                    return;
                }

                continue;
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException)
            {
                return;
            }

            if (message is null)
            {
                Close("peer closed the connection");
                return;
            }

            if (!(message is DmAck or Read && TryTakeReceipt()) && IsFlooding())
            {
                return;
            }

            var now = Environment.TickCount64;
            Volatile.Write(ref _lastAlive, now);
            if (message is not Ping)
            {
                Volatile.Write(ref _lastActivity, now);
            }

            if (!await DispatchAsync(message, handling.Token).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Takes a token for the frame just read (issue #9); a client with none left has sent faster than
    /// <see cref="ParleyServerOptions.MessagesPerSecond"/> for longer than its burst allows, and is told and closed.
    /// Bad frames count too, so a flood of junk costs the same as a flood of requests.
    /// </summary>
    private bool IsFlooding()
    {
        if (_rate.TryTake(Environment.TickCount64))
        {
            return false;
        }

        _logger.LogInformation("{ClientId} sent more than {Rate} messages a second; disconnected", ClientId, _options.MessagesPerSecond);
        Close("message rate exceeded", new Error(ErrorCodes.RateLimited,
            $"You sent more than {_options.MessagesPerSecond} messages a second (bursts of {_options.MessageBurst} allowed); you are disconnected."));
        return true;
    }

    /// <summary>LISTEN (issue #6): remembered for LOOKUP_REPLY; nothing is answered.</summary>
    private ParleyMessage? SetListenPort(int port)
    {
        ListenPort = port;
        return null;
    }

    /// <summary>Handles one message; false ends the connection.</summary>
    private async ValueTask<bool> DispatchAsync(ParleyMessage message, CancellationToken token)
    {
        try
        {
            _metrics.Received(message);
            switch (message)
            {
                case LogOff:
                    Close("logged off");
                    return false;
                case Chat chat:
                    await _router.RelayAsync(this, chat, token).ConfigureAwait(false);
                    return true;
                case HistoryReq history:
                    await _router.SendHistoryAsync(this, history.ClientId, token).ConfigureAwait(false);
                    return true;
                case Dm dm:
                    await _direct.SendAsync(this, dm, token).ConfigureAwait(false);
                    return true;
                case DmAck ack:
                    await _direct.AcknowledgeAsync(this, ack, token).ConfigureAwait(false);
                    return true;
                case Read read:
                    await _direct.ReadAsync(this, read, token).ConfigureAwait(false);
                    return true;
                case Talk talk:
                    await _direct.TalkAsync(this, talk, token).ConfigureAwait(false);
                    return true;
            }

            var reply = message switch
            {
                Ping => new Pong(),
                ChatRequest request => await _router.RequestChatAsync(this, request.ClientId).ConfigureAwait(false),
                EndRequest end => await _router.EndChatAsync(this, end.SessionId).ConfigureAwait(false),
                ListReq list => _accounts.List(list.OnlineOnly),
                Passwd passwd => _accounts.ChangePassword(this, passwd),
                Join join => _rooms.Join(this, join.Room),
                Part part => _rooms.Part(this, part.Room),
                Say say => _rooms.Say(this, say),
                RoomsReq => _rooms.List(this),
                KeysPut put => _keys.Publish(this, put),
                KeysGet get => _keys.Get(this, get.ClientId),
                Listen listen when listen.Port is >= 0 and <= 65535 => SetListenPort(listen.Port),
                Listen => new Error(ErrorCodes.BadMessage, "LISTEN's port must be between 0 and 65535."),
                LookupRequest lookup => _keys.Lookup(lookup.Lookup),
                _ => new Error(ErrorCodes.NotAllowed, "That msgtype is not allowed from a connected client."),
            };
            if (reply is not null)
            {
                await ReplyAsync(reply, token).ConfigureAwait(false);
            }

            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
        {
            return false;
        }
    }
}
