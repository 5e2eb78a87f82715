using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Parley.Server.Hosting;

/// <summary>
/// The operator's HTTP port (issue #7, <see cref="ParleyServerOptions.MetricsPort"/>): <c>GET /metrics</c> in
/// Prometheus text format and <c>GET /healthz</c>. Bound to 127.0.0.1 whatever <see cref="ParleyServerOptions.Address"/>
/// says: metrics name no user, but they are for the operator, not the internet. It is the only endpoint that speaks
/// HTTP; the chat port's connection handler never passes a connection on.
/// </summary>
internal static class MetricsEndpoint
{
    /// <summary>
    /// Adds the listener; Kestrel sets the returned options' <see cref="ListenOptions.IPEndPoint"/> to the bound
    /// address once started (the port picked, when 0 was asked).
    /// </summary>
    public static ListenOptions Listen(KestrelServerOptions kestrel, int port)
    {
        ListenOptions? bound = null;
        kestrel.Listen(IPAddress.Loopback, port, listen =>
        {
            listen.Protocols = HttpProtocols.Http1; // a scraper needs nothing more, and h2c without TLS serves no one here
            bound = listen;
        });
        return bound!;
    }

    /// <summary>Maps both routes. Call after Build and before start: the exporter counts only from when it is created.</summary>
    public static void Map(WebApplication app)
    {
        var exporter = app.Services.GetRequiredService<PrometheusExporter>();
        var lifetime = app.Services.GetRequiredService<ServerLifetime>();
        app.MapGet("/metrics", context =>
        {
            context.Response.ContentType = PrometheusExporter.ContentType;
            return context.Response.WriteAsync(exporter.Scrape(), context.RequestAborted);
        });

        // 503 from the first step of shutdown, so a load balancer or supervisor stops sending new log-ons here.
        app.MapGet("/healthz", context =>
        {
            var stopping = lifetime.IsStopping;
            context.Response.StatusCode = stopping ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync(stopping ? "stopping" : "ok", context.RequestAborted);
        });
    }
}
