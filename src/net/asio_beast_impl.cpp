// Asio and Beast compiled once for the whole binary (BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION are set project-wide): every other file only sees their
// declarations, which keeps builds fast.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>  // TLS for outgoing SMTP (src/mail)
#include <boost/beast/src.hpp>
