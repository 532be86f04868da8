// The request context of every route: Hummingbird's core storage plus the client's address, which rate
// limiting counts by.
import Hummingbird
import NIOCore

public struct WebRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client as rate limiting sees it: its IP address (all ports of one host count together).
    var clientKey: String {
        remoteAddress?.ipAddress ?? "unknown"
    }
}
