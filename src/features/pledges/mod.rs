//! Public pledges (公开承诺 / 践诺): members' and branches' pledges, their
//! review, progress measured from evidence, fulfilment, leader comments
//! (领导点评) and ratings (群众评议).

pub mod dto;
pub mod repo;
pub mod routes;
